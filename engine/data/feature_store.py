"""``engine.features``: the feature store bound to this workspace's datasets.

The store's functions (engine/data/features.py) take a cursor and a resolver; this service
supplies both, reads entity rows from a dataset or a file, writes results to files, and
reports each view's online freshness.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
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
from engine.types.features import ApplyResult, HistoricalExport, Materialization, OnlineFeatures, ViewStatus

if TYPE_CHECKING:
    import pandas as pd


class FeatureStore:
    def __init__(self, db: Database, events: EventLog, datasets: Datasets) -> None:
        self._db = db
        self._events = events
        self._datasets = datasets

    def _resolve(self, reference: str) -> str:
        return self._datasets.resolve(reference).relation

    def apply(self, path: str | Path) -> ApplyResult:
        """Make the registry equal to the definitions file (as ``feast apply`` does)."""
        source = Path(path).expanduser().resolve()
        if not source.is_file():
            raise InvalidInput(f"feature definitions file {source} does not exist; expected a .toml file")
        with self._db.cursor() as cursor:
            definitions = store.load_definitions(source, cursor, self._resolve)
            result = store.apply(cursor, definitions)
        self._events.record("features", source.name, f"applied: {result.summary}")
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

    def export_historical(
        self, entities: str, features: list[str], destination: str | Path
    ) -> HistoricalExport:
        """``historical`` written to a Parquet or CSV file (by its suffix), checked before retrieving."""
        target = _export_target(destination)
        frame = self.historical(entities, features)
        if target.suffix.lower() == ".csv":
            frame.to_csv(target, index=False)
        else:
            frame.to_parquet(target, index=False)
        return HistoricalExport(str(target), len(frame), [str(column) for column in frame.columns])

    def _entity_relation(self, cursor: Any, entities: str) -> str:
        path = Path(entities).expanduser()
        if path.suffix.lower() in readers.CSV_SUFFIXES | readers.PARQUET_SUFFIXES or path.exists():
            return readers.source_sql(cursor, path.resolve(), {})
        if REF_PATTERN.match(entities):
            return self._resolve(entities)
        raise InvalidInput(
            f"--entities {entities!r}: expected a dataset (NAME or NAME@vN) or a .csv/.parquet file"
        )

    def materialize(self, end: datetime | None = None) -> list[Materialization]:
        with self._db.cursor() as cursor:
            done = store.materialize(cursor, self._resolve, end)
        rows = sum(item.rows_written for item in done)
        self._events.record(
            "features", "online store", f"materialized {len(done)} views, {rows:,} rows written"
        )
        return done

    def online(
        self, entity: dict[str, Any], features: list[str], now: datetime | None = None
    ) -> OnlineFeatures:
        """One entity's values and, for each, whether it was present, expired or not found."""
        with self._db.cursor() as cursor:
            return store.lookup_online_features(cursor, entity, features, now)

    @staticmethod
    def parse_entity(items: Iterable[str]) -> dict[str, Any]:
        """Join keys from ``key=value`` items; values are read as JSON when they parse (so 42 is
        a number). The CLI's ``--entity`` options and the console's lookup box both come here."""
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


def _export_target(destination: str | Path) -> Path:
    """Where a retrieval may be written: a .parquet or .csv path in a folder that exists."""
    target = Path(destination).expanduser().resolve()
    if target.suffix.lower() not in {".parquet", ".csv"}:
        raise InvalidInput(f"--out {target}: expected a .parquet or .csv path")
    if not target.parent.is_dir():
        raise InvalidInput(f"--out folder {target.parent} does not exist")
    return target
