"""``engine.features``: the feature store bound to this workspace's datasets.

The store's functions (engine/data/features.py) take a cursor and a resolver; this service
supplies both, reads entity rows from a dataset or a file, writes results to files, and
reports each view's online freshness.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.data import features as store
from engine.data import readers
from engine.data.datasets import Datasets
from engine.data.refs import REF_PATTERN
from engine.db import Database
from engine.errors import InvalidInput
from engine.events import EventLog

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class ViewStatus:
    """A view as applied, with when its online values were last materialized (None: never)."""

    view: store.FeatureView | store.OnDemandView
    materialized_until: datetime | None
    materialized_at: datetime | None
    online_rows: int | None


MAX_INDEXES = 32  # feature lists whose online rows are kept in memory at once


class FeatureStore:
    def __init__(self, db: Database, events: EventLog, datasets: Datasets) -> None:
        self._db = db
        self._events = events
        self._datasets = datasets
        # Online rows in memory per requested feature list; dropped whenever this engine (the
        # only writer of the online store) applies definitions or materializes.
        self._indexes: dict[tuple[str, ...], store.OnlineIndex] = {}

    def _resolve(self, reference: str) -> str:
        return self._datasets.resolve(reference).relation

    def apply(self, path: str | Path) -> store.ApplyResult:
        """Make the registry equal to the definitions file (as ``feast apply`` does)."""
        source = Path(path).expanduser().resolve()
        if not source.is_file():
            raise InvalidInput(f"feature definitions file {source} does not exist; expected a .toml file")
        with self._db.cursor() as cursor:
            definitions = store.load_definitions(source, cursor, self._resolve)
            result = store.apply(cursor, definitions)
        self._indexes.clear()
        changes = f"{len(result.added)} added, {len(result.changed)} changed, {len(result.removed)} removed"
        self._events.record("features", source.name, f"applied: {changes}")
        return result

    def views(self) -> list[ViewStatus]:
        with self._db.cursor() as cursor:
            views = store.list_views(cursor)
            freshness = {
                row[0]: row[1:]
                for row in cursor.execute(
                    "SELECT view, materialized_until, materialized_at, row_count"
                    " FROM feature_materializations"
                ).fetchall()
            }
        return [ViewStatus(view, *freshness.get(view.name, (None, None, None))) for view in views]

    def historical(
        self, entities: str, features: list[str], full_feature_names: bool = False
    ) -> pd.DataFrame:
        """Point-in-time correct features for entity rows from a dataset (``NAME[@vN]``) or a file."""
        with self._db.cursor() as cursor:
            rows = self._entity_relation(cursor, entities)
            return store.get_historical_features(
                cursor, self._resolve, rows, features, full_feature_names=full_feature_names
            )

    def _entity_relation(self, cursor: Any, entities: str) -> str:
        path = Path(entities).expanduser()
        if path.suffix.lower() in readers.CSV_SUFFIXES | readers.PARQUET_SUFFIXES or path.exists():
            return readers.source_sql(cursor, path.resolve(), {})
        if REF_PATTERN.match(entities):
            return self._resolve(entities)
        raise InvalidInput(
            f"--entities {entities!r}: expected a dataset (NAME or NAME@vN) or a .csv/.parquet file"
        )

    def materialize(self, end: datetime | None = None) -> list[store.Materialization]:
        with self._db.cursor() as cursor:
            done = store.materialize(cursor, self._resolve, end)
        self._indexes.clear()
        rows = sum(item.rows_written for item in done)
        self._events.record(
            "features", "online store", f"materialized {len(done)} views, {rows:,} rows written"
        )
        return done

    def online(
        self, entity: dict[str, Any], features: list[str], now: datetime | None = None
    ) -> dict[str, Any]:
        with self._db.cursor() as cursor:
            return store.get_online_features(cursor, entity, features, now)


def parse_entity(items: Iterable[str]) -> dict[str, Any]:
    """Join keys from ``key=value`` items; values are read as JSON when they parse (so 42 is a number)."""
    entity: dict[str, Any] = {}
    for item in (part.strip() for part in items):
        key, separator, value = item.partition("=")
        if not separator or not key.strip():
            raise InvalidInput(f"entity {item!r}: expected JOIN_KEY=VALUE, e.g. customer_id=42")
        try:
            entity[key.strip()] = json.loads(value)
        except ValueError:
            entity[key.strip()] = value.strip()
    if not entity:
        raise InvalidInput("entity: expected JOIN_KEY=VALUE, e.g. customer_id=42")
    return entity


def write_frame(frame: pd.DataFrame, destination: str | Path) -> Path:
    """Save a result as Parquet or CSV, chosen by the suffix."""
    target = Path(destination).expanduser().resolve()
    if target.suffix.lower() not in {".parquet", ".csv"}:
        raise InvalidInput(f"--out {target}: expected a .parquet or .csv path")
    if not target.parent.is_dir():
        raise InvalidInput(f"--out folder {target.parent} does not exist")
    if target.suffix.lower() == ".csv":
        frame.to_csv(target, index=False)
    else:
        frame.to_parquet(target, index=False)
    return target
