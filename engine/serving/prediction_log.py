"""``engine.predictions``: the prediction log as the owner keeps it.

The serving processes hand over batches (recorder.py); each lands as one Arrow table in one
insert, in one transaction, so a batch is in the log whole or not at all (an owner killed
mid-insert leaves no half batch). Rows are read back newest first, with the late label joined
where one has arrived (labels.py; a shadow's row shares its request's label).
"""

from __future__ import annotations

import json
from typing import Any

from engine.db import Database
from engine.errors import InvalidInput
from engine.identifiers import check_limit
from engine.types.serving import LoggedPrediction, PredictionBatch, TrafficStats

MAX_RECENT = 10_000


class PredictionLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    def append(self, batch: PredictionBatch) -> int:
        """Add a serving process's batch; returns the rows added."""
        if not len(batch):
            return 0
        table = _arrow(batch)
        with self._db.transaction() as cursor:
            cursor.register("logged_batch", table)
            try:
                cursor.execute("INSERT INTO prediction_log SELECT * FROM logged_batch")
            finally:
                cursor.unregister("logged_batch")
        return len(batch)

    def stats(self, seconds: int = 60, steps: int = 12) -> list[TrafficStats]:
        """Each endpoint's and variant's traffic over the last ``seconds``, in ``steps`` steps:
        what the console's live serving panel draws. A request counts once however many rows
        (instances) it had; its latency is the request's."""
        if seconds < 1 or steps < 1:
            raise InvalidInput(f"a window of {seconds} s in {steps} steps: expected 1 or more of each")
        step = seconds / steps
        with self._db.cursor() as cursor:
            rows = cursor.execute(
                "WITH requests AS (SELECT endpoint, coalesce(variant, '(none)') AS variant, request_id,"
                " min(logged_at) AS answered_at, max(latency_ms) AS latency, max(status) AS status"
                " FROM prediction_log WHERE logged_at >= now() - to_seconds(CAST(? AS BIGINT)) GROUP BY ALL)"
                " SELECT endpoint, variant,"
                " least(? - 1, CAST(floor(epoch(now() - answered_at) / ?) AS BIGINT)) AS back,"
                " count(*), quantile_cont(latency, 0.5), quantile_cont(latency, 0.95),"
                " quantile_cont(latency, 0.99), count(*) FILTER (WHERE status >= 500)"
                " FROM requests GROUP BY ALL ORDER BY endpoint, variant",
                [seconds, steps, step],
            ).fetchall()
        found: dict[tuple[str, str], dict[int, tuple[Any, ...]]] = {}
        for endpoint, variant, back, *figures in rows:
            found.setdefault((endpoint, variant), {})[steps - 1 - int(back)] = tuple(figures)
        listed = []
        for (endpoint, variant), by_step in found.items():
            cells = [by_step.get(index) for index in range(steps)]
            listed.append(
                TrafficStats(
                    endpoint,
                    variant,
                    seconds,
                    [0.0 if cell is None else cell[0] / step for cell in cells],
                    [None if cell is None else float(cell[1]) for cell in cells],
                    [None if cell is None else float(cell[2]) for cell in cells],
                    [None if cell is None else float(cell[3]) for cell in cells],
                    [None if cell is None else cell[4] / cell[0] for cell in cells],
                )
            )
        return listed

    def count(self, endpoint: str | None = None) -> int:
        with self._db.cursor() as cursor:
            row = cursor.execute(
                "SELECT count(*) FROM prediction_log WHERE ? IS NULL OR endpoint = ?", [endpoint, endpoint]
            ).fetchone()
        return int(row[0]) if row else 0

    def recent(self, endpoint: str | None = None, limit: int = 50) -> list[LoggedPrediction]:
        """The newest ``limit`` rows (at most ``MAX_RECENT``), of one endpoint or all."""
        check_limit(limit)
        with self._db.cursor() as cursor:
            rows = cursor.execute(
                "SELECT p.logged_at, p.event_time, p.endpoint, p.variant, p.model, p.version,"
                ' p.request_id, p."row", p.entity_key, p.entity, p.features, p.score, p.label,'
                " p.latency_ms, p.status, p.error, l.label"
                " FROM prediction_log p LEFT JOIN prediction_labels l"
                ' ON l.request_id = p.request_id AND l."row" = p."row"'
                " WHERE ? IS NULL OR p.endpoint = ?"
                " ORDER BY p.logged_at DESC LIMIT ?",
                [endpoint, endpoint, max(0, min(limit, MAX_RECENT))],
            ).fetchall()
        return [_logged(row) for row in rows]


def _logged(row: tuple[Any, ...]) -> LoggedPrediction:
    values = list(row)
    values[10] = json.loads(values[10]) if values[10] is not None else None
    return LoggedPrediction(*values)


def _arrow(batch: PredictionBatch) -> Any:
    """The batch as an Arrow table in ``prediction_log``'s column order and types."""
    import pyarrow as pa

    def microseconds(seconds: list[float]) -> list[int]:
        return [round(value * 1_000_000) for value in seconds]

    return pa.table(
        {
            "logged_at": pa.array(microseconds(batch.logged_at), pa.timestamp("us", tz="UTC")),
            "event_time": pa.array(microseconds(batch.event_time), pa.timestamp("us")),
            "endpoint": pa.array(batch.endpoint, pa.string()),
            "variant": pa.array(batch.variant, pa.string()),
            "model": pa.array(batch.model, pa.string()),
            "version": pa.array(batch.version, pa.int32()),
            "request_id": pa.array(batch.request_id, pa.string()),
            "row": pa.array(batch.row, pa.int32()),
            "entity_key": pa.array(batch.entity_key, pa.string()),
            "entity": pa.array(batch.entity, pa.string()),
            "features": pa.array(batch.features, pa.string()),
            "score": pa.array(batch.score, pa.float64()),
            "label": pa.array(batch.label, pa.string()),
            "latency_ms": pa.array(batch.latency_ms, pa.float64()),
            "status": pa.array(batch.status, pa.int16()),
            "error": pa.array(batch.error, pa.string()),
        }
    )
