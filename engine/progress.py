"""How long work reports progress: a callback the CLI turns into a Rich progress bar and the
console into messages. ``fraction`` runs from 0 to 1, or is None while unknown."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

Progress = Callable[[str, "float | None"], None]
POLL_SECONDS = 0.2


def no_progress(stage: str, fraction: float | None) -> None:
    """The default when nobody is watching."""


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
