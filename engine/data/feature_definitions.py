"""Feature definitions: what the feature store serves, read from a TOML file and checked.

The format follows Feast's objects, written as TOML so a definitions file is data, not code::

    [[entity]]
    name = "customer"                 # what features describe
    join_keys = ["customer_id"]       # columns that identify one of them

    [[feature_view]]
    name = "customer_activity"        # unique among feature and on-demand views
    entities = ["customer"]           # the view's join keys are its entities' join keys
    source = "churn"                  # dataset reference: "churn" (latest) or "churn@v2"
    timestamp_column = "event_timestamp"
    ttl = "30d"                       # optional: a value older than this is null; units w d h m s
    online = true                     # optional (default false): materialize to the online store

    [feature_view.features]           # feature = type, each a column of the source
    total_orders = "int64"            # types: int64, float64, string, bool, timestamp
    avg_order_value = "float64"

    [[on_demand_view]]
    name = "behaviour"
    sources = ["customer_activity:total_orders", "customer_activity:avg_order_value"]
    function = "on_demand.py:realtime_behavioral_features"   # path relative to this file

    [on_demand_view.features]         # the columns the function returns
    spend = "float64"

Every item may also carry a ``description``. An on-demand function takes a pandas DataFrame
whose columns are its source features (by feature name) and returns a DataFrame of its
features, row for row.

Checking happens when the file is loaded, against the datasets it names, so a bad file is
rejected before anything is stored (DESIGN rule 7). Every error is one line naming the file,
the item and what was expected.
"""

from __future__ import annotations

import re
import tomllib
import types
from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import InvalidInput
from engine.identifiers import check_name
from engine.types.features import (
    Entity,
    Feature,
    FeatureDefinitions,
    FeatureRef,
    FeatureView,
    OnDemandView,
)

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

Resolver = Callable[[str], str]
"""Turns a dataset reference ("churn", "churn@v2") into a quoted relation, or raises InvalidInput."""

OnDemandFunction = Callable[["pd.DataFrame"], "pd.DataFrame"]

FEATURE_TYPES: dict[str, str] = {
    "int64": "BIGINT",
    "float64": "DOUBLE",
    "string": "VARCHAR",
    "bool": "BOOLEAN",
    "timestamp": "TIMESTAMP",
}
"""Declared feature types and the DuckDB type each is served as."""

_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")
_TIMESTAMPS = ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE", "DATE")
_COMPATIBLE: dict[str, tuple[str, ...]] = {
    "int64": _INTEGERS,
    "float64": (*_INTEGERS, "FLOAT", "DOUBLE", "DECIMAL"),
    "string": ("VARCHAR",),
    "bool": ("BOOLEAN",),
    "timestamp": _TIMESTAMPS,
}
_TTL = re.compile(r"(?:\d+[wdhms])+")
_TTL_PART = re.compile(r"(\d+)([wdhms])")
_TTL_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_ref(text: str) -> FeatureRef:
    """``"view:feature"`` as a ``FeatureRef``; anything else is InvalidInput."""
    view, colon, feature = text.partition(":")
    if not colon or not view or not feature or ":" in feature:
        raise InvalidInput(f"feature reference {text!r}: expected 'view:feature'")
    return FeatureRef(view, feature)


def parse_ttl(text: str) -> timedelta:
    """A duration such as ``"30d"``, ``"12h"`` or ``"1d12h"`` (units w, d, h, m, s)."""
    if not _TTL.fullmatch(text):
        raise ValueError(
            f"ttl {text!r}: expected a duration such as '30d', '12h' or '1d12h' (units w d h m s)"
        )
    parts = {_TTL_UNITS[unit]: 0 for unit in _TTL_UNITS}
    for amount, unit in _TTL_PART.findall(text):
        parts[_TTL_UNITS[unit]] += int(amount)
    return timedelta(**parts)


def load_function(spec: str) -> OnDemandFunction:
    """The function named by ``"/abs/path/file.py:function"``, as the file reads now."""
    file, _, name = spec.rpartition(":")
    try:
        source = Path(file).read_text()
    except OSError as error:
        raise InvalidInput(f"function file {file} cannot be read ({error.strerror})") from error
    return _compiled(file, name, source)


@lru_cache(maxsize=64)
def _compiled(file: str, name: str, source: str) -> OnDemandFunction:
    """Run the file's source as a fresh module; cached on the source, so an edit takes effect."""
    module = types.ModuleType(f"mlops_on_demand_{Path(file).stem}")
    module.__file__ = file
    try:
        exec(compile(source, file, "exec"), module.__dict__)
    except Exception as error:
        raise InvalidInput(
            f"function file {file} fails to import: {type(error).__name__}: {error}"
        ) from error
    function: Any = getattr(module, name, None)
    if not callable(function):
        raise InvalidInput(f"function file {file} defines no function {name!r}")
    return function  # type: ignore[no-any-return]


def load_definitions(path: Path, cursor: duckdb.DuckDBPyConnection, resolver: Resolver) -> FeatureDefinitions:
    """Read and check a definitions file against the datasets it names."""
    try:
        document = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise InvalidInput(f"{path}: cannot read feature definitions: {error}") from error
    return _Checker(path, cursor, resolver).definitions(document)


class _Checker:
    """Checks one file's items; every failure names the file and the item."""

    def __init__(self, path: Path, cursor: duckdb.DuckDBPyConnection, resolver: Resolver) -> None:
        self.path = path
        self.cursor = cursor
        self.resolver = resolver

    def fail(self, item: str, message: str) -> InvalidInput:
        return InvalidInput(f"{self.path}: {item}: {message}")

    def definitions(self, document: dict[str, Any]) -> FeatureDefinitions:
        self.keys("file", document, required=(), optional=("entity", "feature_view", "on_demand_view"))
        entities = tuple(self.entity(i, item) for i, item in enumerate(self.tables(document, "entity")))
        self.unique("entity", [entity.name for entity in entities])
        by_name = {entity.name: entity for entity in entities}
        views = tuple(
            self.feature_view(i, item, by_name)
            for i, item in enumerate(self.tables(document, "feature_view"))
        )
        self.unique("feature_view", [view.name for view in views])
        views_by_name = {view.name: view for view in views}
        on_demand = tuple(
            self.on_demand_view(i, item, views_by_name)
            for i, item in enumerate(self.tables(document, "on_demand_view"))
        )
        self.unique("view", [view.name for view in views] + [view.name for view in on_demand])
        return FeatureDefinitions(entities, views, on_demand)

    def tables(self, document: dict[str, Any], kind: str) -> list[dict[str, Any]]:
        items = document.get(kind, [])
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise self.fail(kind, f"expected an array of tables ([[{kind}]])")
        return items

    def unique(self, kind: str, names: list[str]) -> None:
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise self.fail(f"{kind} {name!r}", "the name is used twice; expected unique names")
            seen.add(name)

    def keys(
        self, item: str, table: dict[str, Any], required: tuple[str, ...], optional: tuple[str, ...]
    ) -> None:
        allowed = (*required, *optional)
        for key in table:
            if key not in allowed:
                raise self.fail(item, f"unknown key {key!r}; expected one of {', '.join(sorted(allowed))}")
        for key in required:
            if key not in table:
                raise self.fail(item, f"missing key {key!r}")

    def string(self, item: str, table: dict[str, Any], key: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value:
            raise self.fail(item, f"{key} = {value!r}: expected a non-empty string")
        return value

    def description(self, item: str, table: dict[str, Any]) -> str:
        value = table.get("description", "")
        if not isinstance(value, str):
            raise self.fail(item, f"description = {value!r}: expected a string")
        return value

    def strings(self, item: str, table: dict[str, Any], key: str) -> tuple[str, ...]:
        value = table[key]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise self.fail(item, f"{key} = {value!r}: expected a non-empty list of strings")
        return tuple(value)

    def name(self, kind: str, index: int, table: dict[str, Any]) -> str:
        """The item's name, checked like a dataset name: feature views become tables and views
        of the online store, and every name is shown back in tables and refs (``view:feature``)."""
        item = f"{kind} #{index + 1}"
        name = self.string(item, table, "name")
        try:
            return check_name(name, f"{kind} name")
        except InvalidInput as error:
            raise self.fail(item, str(error)) from error

    def entity(self, index: int, table: dict[str, Any]) -> Entity:
        item = f"entity {self.name('entity', index, table)!r}"
        self.keys(item, table, required=("name", "join_keys"), optional=("description",))
        return Entity(table["name"], self.strings(item, table, "join_keys"), self.description(item, table))

    def feature_view(self, index: int, table: dict[str, Any], entities: dict[str, Entity]) -> FeatureView:
        item = f"feature_view {self.name('feature_view', index, table)!r}"
        self.keys(
            item,
            table,
            required=("name", "entities", "source", "timestamp_column", "features"),
            optional=("ttl", "online", "description"),
        )
        names = self.strings(item, table, "entities")
        unknown = [name for name in names if name not in entities]
        if unknown:
            raise self.fail(
                item, f"unknown entity {unknown[0]!r}; expected one of {', '.join(entities) or 'none'}"
            )
        join_keys = tuple(key for name in names for key in entities[name].join_keys)
        source = self.string(item, table, "source")
        timestamp_column = self.string(item, table, "timestamp_column")
        features = self.features(item, table)
        columns = self.columns(item, source)
        for column in (*join_keys, timestamp_column):
            if column not in columns:
                raise self.fail(item, f"column {column!r} is not in dataset {source!r}")
        if not columns[timestamp_column].startswith(_TIMESTAMPS):
            raise self.fail(
                item,
                f"timestamp_column {timestamp_column!r} is {columns[timestamp_column]}; expected a timestamp",
            )
        for feature in features:
            self.check_column(item, source, columns, feature)
        online = table.get("online", False)
        if not isinstance(online, bool):
            raise self.fail(item, f"online = {online!r}: expected true or false")
        return FeatureView(
            name=table["name"],
            entities=names,
            join_keys=join_keys,
            source=source,
            timestamp_column=timestamp_column,
            ttl=self.ttl(item, table),
            online=online,
            features=features,
            description=self.description(item, table),
        )

    def ttl(self, item: str, table: dict[str, Any]) -> timedelta | None:
        if "ttl" not in table:
            return None
        try:
            return parse_ttl(self.string(item, table, "ttl"))
        except ValueError as error:
            raise self.fail(item, str(error)) from error

    def features(self, item: str, table: dict[str, Any]) -> tuple[Feature, ...]:
        value = table["features"]
        if not isinstance(value, dict) or not value:
            raise self.fail(item, "features: expected a table of feature = type")
        for name, dtype in value.items():
            if not name or ":" in name:
                raise self.fail(
                    item, f"feature {name!r}: expected a non-empty name without ':' (refs are view:feature)"
                )
            if dtype not in FEATURE_TYPES:
                raise self.fail(
                    item, f"feature {name!r} has type {dtype!r}; expected one of {', '.join(FEATURE_TYPES)}"
                )
        return tuple(Feature(name, dtype) for name, dtype in value.items())

    def columns(self, item: str, source: str) -> dict[str, str]:
        try:
            relation = self.resolver(source)
        except InvalidInput as error:
            raise self.fail(item, f"source {source!r} is not a dataset ({error})") from error
        rows = self.cursor.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        return {row[0]: row[1] for row in rows}

    def check_column(self, item: str, source: str, columns: dict[str, str], feature: Feature) -> None:
        if feature.name not in columns:
            raise self.fail(item, f"feature {feature.name!r} is not a column of dataset {source!r}")
        if not columns[feature.name].startswith(_COMPATIBLE[feature.dtype]):
            raise self.fail(
                item,
                f"feature {feature.name!r} is declared {feature.dtype}; column: {columns[feature.name]}",
            )

    def on_demand_view(
        self, index: int, table: dict[str, Any], views: dict[str, FeatureView]
    ) -> OnDemandView:
        item = f"on_demand_view {self.name('on_demand_view', index, table)!r}"
        self.keys(
            item, table, required=("name", "sources", "function", "features"), optional=("description",)
        )
        sources = []
        for text in self.strings(item, table, "sources"):
            try:
                ref = parse_ref(text)
            except InvalidInput as error:
                raise self.fail(item, str(error)) from error
            view = views.get(ref.view)
            if view is None:
                raise self.fail(
                    item, f"source {text!r} names no feature view; expected one of {', '.join(views)}"
                )
            if ref.feature not in {feature.name for feature in view.features}:
                raise self.fail(
                    item, f"source {text!r}: feature view {ref.view!r} has no feature {ref.feature!r}"
                )
            sources.append(ref)
        self.unique(f"{item}: source feature", [ref.feature for ref in sources])
        return OnDemandView(
            name=table["name"],
            sources=tuple(sources),
            function=self.function(item, self.string(item, table, "function")),
            features=self.features(item, table),
            description=self.description(item, table),
        )

    def function(self, item: str, spec: str) -> str:
        """The function spec with its file made absolute, once the function is known to load."""
        file, colon, name = spec.rpartition(":")
        if not colon or not file or not name:
            raise self.fail(item, f"function = {spec!r}: expected 'path/to/file.py:function'")
        absolute = f"{(self.path.parent / file).resolve()}:{name}"
        try:
            load_function(absolute)
        except InvalidInput as error:
            raise self.fail(item, str(error)) from error
        return absolute
