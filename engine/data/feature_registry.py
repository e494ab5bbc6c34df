"""The feature registry: applied definitions, stored in the workspace database.

Applying a definitions file makes the registry equal to it, like ``feast apply``: new items
are added, changed ones replaced, missing ones removed, unchanged ones left alone (so applying
twice is a no-op). A replaced or removed feature view loses its online values and its
materialization watermark, because they were computed under the old definition.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from engine.errors import InvalidInput
from engine.identifiers import quote
from engine.types.features import (
    ApplyResult,
    Entity,
    Feature,
    FeatureDefinitions,
    FeatureRef,
    FeatureView,
    OnDemandView,
)

if TYPE_CHECKING:
    import duckdb

ONLINE_SCHEMA = "feature_online"

# The registry's tables and the online schema are created by migration 4 (engine/migrations.py).

_KINDS = ("entity", "feature_view", "on_demand_view")


def online_table(view: str) -> str:
    """The quoted name of a feature view's online table."""
    return f"{ONLINE_SCHEMA}.{quote(view)}"


def apply(cursor: duckdb.DuckDBPyConnection, definitions: FeatureDefinitions) -> ApplyResult:
    """Make the registry hold exactly ``definitions``; items are named ``kind:name`` in the result."""
    items: list[tuple[str, Entity | FeatureView | OnDemandView]] = [
        *(("entity", entity) for entity in definitions.entities),
        *(("feature_view", view) for view in definitions.feature_views),
        *(("on_demand_view", view) for view in definitions.on_demand_views),
    ]
    wanted = {(kind, item.name): json.dumps(_encode(item), sort_keys=True) for kind, item in items}
    stored = {(kind, name): definition for kind, name, definition in _rows(cursor)}
    added = [key for key in wanted if key not in stored]
    changed = [key for key in wanted if key in stored and json.loads(stored[key]) != json.loads(wanted[key])]
    removed = [key for key in stored if key not in wanted]
    cursor.begin()
    try:
        for kind, name in (*changed, *removed):
            cursor.execute("DELETE FROM feature_registry WHERE kind = ? AND name = ?", [kind, name])
            if kind == "feature_view":
                cursor.execute("DELETE FROM feature_materializations WHERE view = ?", [name])
                cursor.execute(f"DROP TABLE IF EXISTS {online_table(name)}")
        for kind, name in (*added, *changed):
            cursor.execute(
                "INSERT INTO feature_registry (kind, name, definition) VALUES (?, ?, ?)",
                [kind, name, wanted[(kind, name)]],
            )
    except BaseException:
        cursor.rollback()
        raise
    cursor.commit()
    label = ":".join
    return ApplyResult(
        added=tuple(map(label, added)),
        changed=tuple(map(label, changed)),
        removed=tuple(map(label, removed)),
        unchanged=tuple(label(key) for key in wanted if key not in added and key not in changed),
    )


def read_definitions(cursor: duckdb.DuckDBPyConnection) -> FeatureDefinitions:
    """Everything applied, in name order."""
    decoded: dict[str, list[Any]] = {kind: [] for kind in _KINDS}
    for kind, _, definition in _rows(cursor):
        decoded[kind].append(_DECODERS[kind](json.loads(definition)))
    return FeatureDefinitions(
        tuple(decoded["entity"]), tuple(decoded["feature_view"]), tuple(decoded["on_demand_view"])
    )


def list_views(cursor: duckdb.DuckDBPyConnection) -> list[FeatureView | OnDemandView]:
    """Feature views then on-demand views, each in name order."""
    return read_definitions(cursor).views


def view_named(definitions: FeatureDefinitions, name: str) -> FeatureView | OnDemandView:
    """The applied view called ``name``, or InvalidInput listing the ones there are."""
    for view in definitions.views:
        if view.name == name:
            return view
    known = ", ".join(view.name for view in definitions.views) or "none"
    raise InvalidInput(f"feature view {name!r} is not applied; expected one of {known}")


def _rows(cursor: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    return cursor.execute(
        "SELECT kind, name, definition FROM feature_registry ORDER BY kind, name"
    ).fetchall()


def _encode(item: Entity | FeatureView | OnDemandView) -> dict[str, Any]:
    encoded = asdict(item)
    if isinstance(item, FeatureView):
        encoded["ttl"] = None if item.ttl is None else item.ttl.total_seconds()
    return encoded


def _features(encoded: list[dict[str, str]]) -> tuple[Feature, ...]:
    return tuple(Feature(**feature) for feature in encoded)


def _entity(encoded: dict[str, Any]) -> Entity:
    return Entity(encoded["name"], tuple(encoded["join_keys"]), encoded["description"])


def _feature_view(encoded: dict[str, Any]) -> FeatureView:
    ttl = encoded["ttl"]
    return FeatureView(
        name=encoded["name"],
        entities=tuple(encoded["entities"]),
        join_keys=tuple(encoded["join_keys"]),
        source=encoded["source"],
        timestamp_column=encoded["timestamp_column"],
        ttl=None if ttl is None else timedelta(seconds=ttl),
        online=encoded["online"],
        features=_features(encoded["features"]),
        description=encoded["description"],
    )


def _on_demand_view(encoded: dict[str, Any]) -> OnDemandView:
    return OnDemandView(
        name=encoded["name"],
        sources=tuple(FeatureRef(**ref) for ref in encoded["sources"]),
        function=encoded["function"],
        features=_features(encoded["features"]),
        description=encoded["description"],
    )


_DECODERS = {"entity": _entity, "feature_view": _feature_view, "on_demand_view": _on_demand_view}
