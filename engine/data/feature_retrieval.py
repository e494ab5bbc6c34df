"""Point-in-time correct historical retrieval: training sets that never see the future.

For each entity row (join keys and ``event_timestamp``) and each feature view, the value is
the view's latest row for those keys at or before the row's timestamp, provided it is no
older than the view's TTL (a row exactly TTL old still counts, as in Feast); otherwise the
features are null. One ``ASOF LEFT JOIN`` per view does this in DuckDB in a single pass.
Timestamps are compared as epoch nanoseconds, so dates and naive (read as UTC), time-zone
aware and nanosecond timestamps all compare as the instants they are. Rows come back in the
entity rows' order, duplicates included: DuckDB keeps insertion order, which numbers the
rows, so a relation's rows are numbered as a plain SELECT returns them. Rows of a feature
view sharing keys and timestamp are a tie, broken arbitrarily.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING
from uuid import uuid4

from engine.data.feature_definitions import FEATURE_TYPES, Resolver
from engine.data.feature_on_demand import add_on_demand_columns
from engine.data.feature_plan import FeaturePlan, ViewRead, plan_request, working_name
from engine.data.feature_registry import read_definitions
from engine.errors import InvalidInput
from engine.identifiers import quote
from engine.types.features import FeatureRef

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa

ENTITY_TIMESTAMP = "event_timestamp"
_ROW = "__feature_store_row"
_AT = "__feature_store_ns"


def get_historical_features(
    cursor: duckdb.DuckDBPyConnection,
    resolver: Resolver,
    entity_rows: str | pd.DataFrame | pa.Table,
    features: Sequence[str],
    *,
    full_feature_names: bool = False,
) -> pd.DataFrame:
    """The entity rows with the requested ``view:feature`` columns added, as of each row's time.

    ``entity_rows`` is a relation (a table or view name as SQL) or a pandas/Arrow table. The
    joins carry only row numbers, join keys and times; the entity columns are put back in
    pandas, which puts rows back in order far cheaper than sorting the joined rows in SQL.
    """
    import numpy as np
    import pandas as pd

    plan = plan_request(read_definitions(cursor), features, full_feature_names)
    with _registered(cursor, entity_rows) as relation:
        entity_columns = _check_entity_rows(cursor, relation, plan)
        found = cursor.execute(_point_in_time_sql(relation, plan, resolver)).df()
        entities = _entity_frame(cursor, entity_rows, relation)
    order = np.empty(len(found), dtype=np.int64)
    order[found[_ROW].to_numpy() - 1] = np.arange(len(found))
    found = found.drop(columns=_ROW).take(order).set_axis(entities.index)
    add_on_demand_columns(plan, found)
    requested = found[list(plan.outputs)].rename(columns=plan.outputs)
    return pd.concat([entities[entity_columns], requested], axis=1)


def _entity_frame(
    cursor: duckdb.DuckDBPyConnection, rows: str | pd.DataFrame | pa.Table, relation: str
) -> pd.DataFrame:
    """The entity rows as pandas, in their order (a frame as given, with its index)."""
    import pandas as pd

    if isinstance(rows, pd.DataFrame):
        return rows
    if isinstance(rows, str):
        return cursor.execute(f"SELECT * FROM {relation}").df()
    return rows.to_pandas()


@contextmanager
def _registered(cursor: duckdb.DuckDBPyConnection, rows: str | pd.DataFrame | pa.Table) -> Iterator[str]:
    """A relation name for the entity rows; frames are registered for the duration."""
    if isinstance(rows, str):
        yield rows
        return
    name = f"entity_rows_{uuid4().hex}"
    cursor.register(name, rows)
    try:
        yield name
    finally:
        cursor.unregister(name)


def _check_entity_rows(cursor: duckdb.DuckDBPyConnection, relation: str, plan: FeaturePlan) -> list[str]:
    """The entity rows' columns, once they are known to have what retrieval needs."""
    columns = dict(
        cursor.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {relation})").fetchall()
    )
    if ENTITY_TIMESTAMP not in columns:
        raise InvalidInput(f"entity rows: no column {ENTITY_TIMESTAMP!r}; expected the time of each row")
    if not columns[ENTITY_TIMESTAMP].startswith(("TIMESTAMP", "DATE")):
        raise InvalidInput(
            f"entity rows: column {ENTITY_TIMESTAMP!r} is {columns[ENTITY_TIMESTAMP]}; expected a timestamp"
        )
    missing = [key for key in plan.join_keys if key not in columns]
    if missing:
        raise InvalidInput(f"entity rows: no join key column {missing[0]!r}; the requested features need it")
    clashing = [name for name in plan.outputs.values() if name in columns]
    if clashing:
        raise InvalidInput(f"entity rows: column {clashing[0]!r} clashes with a requested feature's name")
    [(nulls,)] = cursor.execute(
        f"SELECT count(*) FROM {relation} WHERE {ENTITY_TIMESTAMP} IS NULL"
    ).fetchall()
    if nulls:
        raise InvalidInput(
            f"entity rows: {nulls} rows have a null {ENTITY_TIMESTAMP!r}; expected a time on every row"
        )
    return list(columns)


def _point_in_time_sql(relation: str, plan: FeaturePlan, resolver: Resolver) -> str:
    selects = []
    joins = []
    for index, read in enumerate(plan.reads):
        alias = f"v{index}"
        selects.extend(_feature_columns(alias, read))
        joins.append(
            f"ASOF LEFT JOIN ({_view_sql(read, resolver)}) AS {alias} ON "
            + " AND ".join([f"e.{quote(key)} = {alias}.{quote(key)}" for key in read.view.join_keys])
            + f" AND e.{_AT} >= {alias}.{_AT}"
        )
    keys = ", ".join(quote(key) for key in plan.join_keys)
    return (
        f"SELECT e.{_ROW}, {', '.join(selects)} "
        f"FROM (SELECT {keys}, row_number() OVER () AS {_ROW}, epoch_ns({ENTITY_TIMESTAMP}) AS {_AT} "
        f"FROM {relation}) AS e {' '.join(joins)}"
    )


def _view_sql(read: ViewRead, resolver: Resolver) -> str:
    view = read.view
    columns = ", ".join(quote(name) for name in dict.fromkeys((*view.join_keys, *read.features)))
    timestamp = quote(view.timestamp_column)
    return f"SELECT {columns}, epoch_ns({timestamp}) AS {_AT} FROM {resolver(view.source)}"


def _feature_columns(alias: str, read: ViewRead) -> list[str]:
    """The view's features, null when the matched row is older than the TTL."""
    ttl_ns = read.view.ttl_ns
    types = {feature.name: feature.dtype for feature in read.view.features}
    columns = []
    for name in read.features:
        value = f"CAST({alias}.{quote(name)} AS {FEATURE_TYPES[types[name]]})"
        if ttl_ns is not None:
            value = f"CASE WHEN e.{_AT} - {alias}.{_AT} <= {ttl_ns} THEN {value} END"
        columns.append(f"{value} AS {quote(working_name(FeatureRef(read.view.name, name)))}")
    return columns
