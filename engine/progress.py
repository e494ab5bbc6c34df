"""Progress from inside DuckDB: a long statement reports its own progress to the caller's
callback (engine/types/progress.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from engine.types.progress import Progress

if TYPE_CHECKING:
    import duckdb

POLL_SECONDS = 0.2


@contextmanager
def watch_query(
    cursor: duckdb.DuckDBPyConnection, report: Progress, stage: str, start: float, end: float
) -> Iterator[None]:
    """While the block runs a long statement on ``cursor``, report DuckDB's own progress of it,
    scaled into ``[start, end]`` of the whole task."""
    cursor.execute("SET enable_progress_bar = true")
    cursor.execute("SET enable_progress_bar_print = false")
    finished = threading.Event()

    def poll() -> None:
        while not finished.wait(POLL_SECONDS):
            percent = cursor.query_progress()
            if percent >= 0:
                report(stage, start + (end - start) * min(percent, 100.0) / 100)

    poller = threading.Thread(target=poll, name="query-progress", daemon=True)
    report(stage, start)
    poller.start()
    try:
        yield
    finally:
        finished.set()
        poller.join()
