"""The workspace's DuckDB database, shared safely between threads.

One DuckDB connection is opened per owner process. DuckDB connections are not safe to use
from several threads at once, but cursors (``connection.cursor()``) are independent
connections to the same database, so every unit of work takes its own short-lived cursor.
Console workers, the scheduler and the HTTP server can then all use the database at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


class Database:
    """The owner's connection to ``workspace.duckdb``."""

    def __init__(self, path: Path) -> None:
        import duckdb

        self.path = path
        self._connection: duckdb.DuckDBPyConnection | None = duckdb.connect(str(path))
        self._closing = threading.Lock()

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for one unit of work on the calling thread."""
        if self._connection is None:
            raise RuntimeError(f"the database {self.path} is closed")
        cursor = self._connection.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside a transaction: everything in the block lands, or nothing does."""
        with self.cursor() as cursor:
            cursor.begin()
            try:
                yield cursor
            except BaseException:
                cursor.rollback()
                raise
            cursor.commit()

    def close(self) -> None:
        """Checkpoint (fold the write-ahead log into the file) and close; safe to repeat."""
        with self._closing:
            if self._connection is None:
                return
            self._connection.execute("CHECKPOINT")
            self._connection.close()
            self._connection = None
