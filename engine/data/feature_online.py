"""The online store: the latest feature values per entity, for serving one request at a time.

``materialize`` copies each online feature view's latest row per entity (as of ``end``) into
its own table, ``feature_online."<view>"``, whose primary key is the view's join keys, and
records how far it got. The next run with the same dataset version only reads rows after
that watermark and upserts them; a new dataset version, an earlier ``end`` or a changed view
rebuilds the table. Rows without a join key cannot be looked up and are skipped.

A lookup is one primary-key query per view. DuckDB costs about half a millisecond per query
here whatever the query, so there are two faster paths: an ``OnlineLookup`` prepared once
per feature list (registry read and SQL built once), and an ``OnlineIndex`` holding a
lookup's online rows in memory, which the engine rebuilds whenever it changes the store.
``get_online_features`` prepares a lookup per call.
A view never materialized (or rebuilt by ``apply``) has no table: the lookup reports that
when it happens rather than checking before every lookup.
Values older than the view's TTL at ``now`` come back as None, as missing entities' do; each
value's status (``present``, ``expired``, ``not_found``, Feast's field statuses) tells them apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from engine.data.feature_definitions import FEATURE_TYPES, Resolver
from engine.data.feature_on_demand import add_on_demand_columns
from engine.data.feature_plan import FeaturePlan, plan_request, working_name
from engine.data.feature_registry import online_table, read_definitions
from engine.errors import InvalidInput
from engine.identifiers import quote
from engine.types.features import FeatureRef, FeatureView, Materialization, OnlineFeatures, OnlineStatus

if TYPE_CHECKING:
    import duckdb

_AT = "__event_ns"
_STATUS_ORDER: tuple[OnlineStatus, ...] = ("not_found", "expired", "present")  # worst first
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch; a naive datetime is read as UTC, like the data's timestamps."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(microseconds=1) * 1000


def materialize(
    cursor: duckdb.DuckDBPyConnection, resolver: Resolver, end: datetime | None = None
) -> list[Materialization]:
    """Bring every online feature view's table up to ``end`` (default now)."""
    moment = end if end is not None else datetime.now(UTC)
    end_ns = epoch_ns(moment)
    done = []
    for view in read_definitions(cursor).feature_views:
        if view.online:
            cursor.begin()
            try:
                done.append(_materialize_view(cursor, view, resolver(view.source), end_ns))
            except BaseException:
                cursor.rollback()
                raise
            cursor.commit()
    return done


def _materialize_view(
    cursor: duckdb.DuckDBPyConnection, view: FeatureView, relation: str, end_ns: int
) -> Materialization:
    watermarks = cursor.execute(
        "SELECT relation, epoch_ns(materialized_until) FROM feature_materializations WHERE view = ?",
        [view.name],
    ).fetchall()
    watermark = watermarks[0] if watermarks else None
    incremental = watermark is not None and watermark[0] == relation and watermark[1] <= end_ns
    start_ns = watermark[1] if watermark is not None and incremental else None
    if not incremental:
        _create_table(cursor, view, relation)
    keys = ", ".join(quote(key) for key in view.join_keys)
    features = ", ".join(
        f"CAST({quote(feature.name)} AS {FEATURE_TYPES[feature.dtype]}) AS {quote(feature.name)}"
        for feature in view.features
    )
    timestamp = f"epoch_ns({quote(view.timestamp_column)})"
    window = f"{timestamp} <= {end_ns}" + ("" if start_ns is None else f" AND {timestamp} > {start_ns}")
    not_null = " AND ".join(f"{quote(key)} IS NOT NULL" for key in view.join_keys)
    updates = ", ".join(
        f"{quote(name)} = excluded.{quote(name)}" for name in (_AT, *(f.name for f in view.features))
    )
    [(written,)] = cursor.execute(
        f"INSERT INTO {online_table(view.name)} SELECT {keys}, {timestamp} AS {_AT}, {features} "
        f"FROM {relation} WHERE {window} AND {not_null} "
        f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY {timestamp} DESC) = 1 "
        f"ON CONFLICT ({keys}) DO UPDATE SET {updates}"
    ).fetchall()
    cursor.execute(
        "INSERT OR REPLACE INTO feature_materializations (view, relation, materialized_until, row_count) "
        "VALUES (?, ?, make_timestamp(?), ?)",
        [view.name, relation, end_ns // 1000, written],
    )
    until = _EPOCH + timedelta(microseconds=end_ns // 1000)
    return Materialization(view.name, relation, until, written, incremental)


def _create_table(cursor: duckdb.DuckDBPyConnection, view: FeatureView, relation: str) -> None:
    keys = ", ".join(quote(key) for key in view.join_keys)
    described = cursor.execute(f"DESCRIBE SELECT {keys} FROM {relation}").fetchall()
    key_types = {row[0]: row[1] for row in described}
    columns = [f"{quote(key)} {key_types[key]} NOT NULL" for key in view.join_keys]
    columns.append(f"{_AT} BIGINT NOT NULL")
    columns.extend(f"{quote(feature.name)} {FEATURE_TYPES[feature.dtype]}" for feature in view.features)
    cursor.execute(
        f"CREATE OR REPLACE TABLE {online_table(view.name)} ({', '.join(columns)}, PRIMARY KEY ({keys}))"
    )


@dataclass(frozen=True)
class _ViewQuery:
    """One view's primary-key query and what its columns are called in a plan."""

    view: FeatureView
    sql: str
    columns: tuple[str, ...]  # quoted feature columns, as selected by ``sql`` after the event time
    names: tuple[str, ...]


@dataclass(frozen=True)
class OnlineLookup:
    """A feature list ready to serve: one primary-key query per view, nothing else per call."""

    plan: FeaturePlan
    queries: tuple[_ViewQuery, ...]

    def get(
        self, cursor: duckdb.DuckDBPyConnection, entity: Mapping[str, Any], now: datetime | None = None
    ) -> dict[str, Any]:
        """The features of one entity (its join keys → values); expired or missing values are None."""
        return self.lookup(cursor, entity, now).values

    def lookup(
        self, cursor: duckdb.DuckDBPyConnection, entity: Mapping[str, Any], now: datetime | None = None
    ) -> OnlineFeatures:
        """The features of one entity with each value's status (present, expired, not found)."""
        import duckdb

        _check_join_keys(self.plan, entity)
        rows: list[tuple[Any, ...] | None] = []
        for query in self.queries:
            try:
                fetched = cursor.execute(query.sql, [entity[key] for key in query.view.join_keys]).fetchall()
            except duckdb.CatalogException as error:
                raise InvalidInput(
                    f"feature view {query.view.name!r} has no online values yet; materialize it first"
                ) from error
            rows.append(fetched[0] if fetched else None)
        return _assemble(self, rows, now)


@dataclass(frozen=True)
class OnlineIndex:
    """An ``OnlineLookup``'s views held in memory: one dict lookup per view instead of a query.

    The engine owns every write to the online store (one owner process per workspace), so it
    rebuilds an index exactly when ``materialize`` or ``apply`` changed the store; between
    those, the index is the store. Results are the same as ``OnlineLookup.get`` (tested).
    """

    lookup: OnlineLookup
    rows: tuple[dict[tuple[Any, ...], tuple[Any, ...]], ...]  # per view: join keys -> (event ns, values...)

    @classmethod
    def load(cls, cursor: duckdb.DuckDBPyConnection, lookup: OnlineLookup) -> OnlineIndex:
        import duckdb

        tables = []
        for query in lookup.queries:
            keys = len(query.view.join_keys)
            columns = ", ".join([*(quote(key) for key in query.view.join_keys), _AT, *query.columns])
            try:
                fetched = cursor.execute(f"SELECT {columns} FROM {online_table(query.view.name)}").fetchall()
            except duckdb.CatalogException as error:
                raise InvalidInput(
                    f"feature view {query.view.name!r} has no online values yet; materialize it first"
                ) from error
            tables.append({row[:keys]: row[keys:] for row in fetched})
        return cls(lookup, tuple(tables))

    def get(self, entity: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
        return self.lookup_entity(entity, now).values

    def lookup_entity(self, entity: Mapping[str, Any], now: datetime | None = None) -> OnlineFeatures:
        _check_join_keys(self.lookup.plan, entity)
        rows = [
            table.get(tuple(entity[key] for key in query.view.join_keys))
            for query, table in zip(self.lookup.queries, self.rows, strict=True)
        ]
        return _assemble(self.lookup, rows, now)


def _assemble(
    lookup: OnlineLookup, rows: Sequence[tuple[Any, ...] | None], now: datetime | None
) -> OnlineFeatures:
    """Each view's row (event time first, or None when the entity has none) as the plan's
    values and statuses: a row older than the view's TTL at ``now`` gives None, ``expired``;
    an on-demand feature takes the worst status of the features it is computed from."""
    now_ns = epoch_ns(now if now is not None else datetime.now(UTC))
    values: dict[str, Any] = {}
    statuses: dict[str, OnlineStatus] = {}
    for query, row in zip(lookup.queries, rows, strict=True):
        ttl_ns = query.view.ttl_ns
        status: OnlineStatus = (
            "not_found"
            if row is None
            else "present"
            if ttl_ns is None or now_ns - row[0] <= ttl_ns
            else "expired"
        )
        present = row is not None and status == "present"
        values.update(
            zip(query.names, row[1:] if present and row else (None,) * len(query.names), strict=True)
        )
        statuses.update(dict.fromkeys(query.names, status))
    plan = lookup.plan
    if plan.on_demand:
        values = _with_on_demand(plan, values)
        for view in plan.on_demand:
            sources = {statuses[working_name(ref)] for ref in view.sources}
            worst = next(s for s in _STATUS_ORDER if s in sources)
            statuses.update({working_name(FeatureRef(view.name, f.name)): worst for f in view.features})
    return OnlineFeatures(
        {returned: values[working] for working, returned in plan.outputs.items()},
        {returned: statuses[working] for working, returned in plan.outputs.items()},
    )


def prepare_online_lookup(
    cursor: duckdb.DuckDBPyConnection, features: Sequence[str], *, full_feature_names: bool = False
) -> OnlineLookup:
    """Plan a feature list once for many lookups; prepare again after ``apply`` changes a view."""
    plan = plan_request(read_definitions(cursor), features, full_feature_names)
    queries = []
    for read in plan.reads:
        view = read.view
        if not view.online:
            raise InvalidInput(
                f"feature view {view.name!r} is not online; set online = true and materialize it"
            )
        feature_columns = tuple(quote(name) for name in read.features)
        where = " AND ".join(f"{quote(key)} = ?" for key in view.join_keys)
        sql = f"SELECT {', '.join([_AT, *feature_columns])} FROM {online_table(view.name)} WHERE {where}"
        names = tuple(working_name(FeatureRef(view.name, name)) for name in read.features)
        queries.append(_ViewQuery(view, sql, feature_columns, names))
    return OnlineLookup(plan, tuple(queries))


def get_online_features(
    cursor: duckdb.DuckDBPyConnection,
    entity: Mapping[str, Any],
    features: Sequence[str],
    now: datetime | None = None,
    *,
    full_feature_names: bool = False,
) -> dict[str, Any]:
    """One entity's latest ``view:feature`` values; see ``OnlineLookup`` for the fast path."""
    return lookup_online_features(cursor, entity, features, now, full_feature_names=full_feature_names).values


def lookup_online_features(
    cursor: duckdb.DuckDBPyConnection,
    entity: Mapping[str, Any],
    features: Sequence[str],
    now: datetime | None = None,
    *,
    full_feature_names: bool = False,
) -> OnlineFeatures:
    """One entity's latest ``view:feature`` values with their statuses."""
    return prepare_online_lookup(cursor, features, full_feature_names=full_feature_names).lookup(
        cursor, entity, now
    )


def _check_join_keys(plan: FeaturePlan, entity: Mapping[str, Any]) -> None:
    missing = [key for key in plan.join_keys if key not in entity]
    if missing:
        raise InvalidInput(
            f"entity {dict(entity)!r}: no join key {missing[0]!r}; the requested features need it"
        )


def _with_on_demand(plan: FeaturePlan, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` plus the on-demand features, computed on a one-row frame; NaN reads back as None."""
    import pandas as pd

    frame = pd.DataFrame([values])
    add_on_demand_columns(plan, frame)
    return {str(name): _plain(value) for name, value in frame.astype(object).iloc[0].items()}


def _plain(value: Any) -> Any:
    """A Python value for a pandas cell: None for missing, numpy scalars unwrapped."""
    import pandas as pd

    if pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value
