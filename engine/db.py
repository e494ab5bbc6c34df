"""The workspace's DuckDB database, shared safely between threads.

One DuckDB connection is opened per owner process. DuckDB connections are not safe to use
from several threads at once, but cursors (``connection.cursor()``) are independent
connections to the same database, so every unit of work takes its own short-lived cursor.
Console workers, the scheduler and the HTTP server can then all use the database at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from engine.signals import deferred

if TYPE_CHECKING:
    import duckdb


INTERRUPT_POLL_SECONDS = 0.05


class Database:
    """The owner's connection to ``workspace.duckdb``."""

    def __init__(self, path: Path) -> None:
        with deferred():  # a signal while DuckDB's extension initialises would abort Python
            import duckdb

            self.path = path
            self._connection: duckdb.DuckDBPyConnection | None = duckdb.connect(str(path))
        self._closing = threading.Lock()
        # Cursors in use, so closing can stop their queries first (a console quitting while a
        # worker still reads would otherwise fail to checkpoint: "connection is busy").
        self._active: set[duckdb.DuckDBPyConnection] = set()
        self._threads: dict[duckdb.DuckDBPyConnection, int] = {}  # the thread each cursor serves
        self._idle = threading.Condition()

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for one unit of work on the calling thread. Ctrl-C or SIGTERM meanwhile
        stops its query and is raised as the block ends (``engine.signals``)."""
        with deferred():
            with self._idle:
                if self._connection is None:
                    raise RuntimeError(f"the database {self.path} is closed")
                cursor = self._connection.cursor()
                self._active.add(cursor)
                self._threads[cursor] = threading.get_ident()
            try:
                yield cursor
            finally:
                with self._idle:
                    self._active.discard(cursor)
                    self._threads.pop(cursor, None)
                    self._idle.notify_all()
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

    def interrupt(self, spared: Collection[int] = ()) -> None:
        """Stop the units of work running now, but those of the ``spared`` threads: their
        queries fail with DuckDB's InterruptException and roll back. Called when the process is
        told to stop (the commands it runs for clients are spared: they get a grace period).

        A query that starts just after the call would miss a single interrupt (DuckDB clears
        the flag as a query begins), so the cursors in use are interrupted until released;
        cursors taken later (the unwinding's own bookkeeping) are left to run."""
        self._interrupt_until_released(lambda cursor: self._threads.get(cursor) not in spared)

    def interrupt_thread(self, ident: int) -> None:
        """Stop the units of work one thread is running (a client's command the owner runs for
        it, cancelled), leaving every other thread's work alone."""
        self._interrupt_until_released(lambda cursor: self._threads.get(cursor) == ident)

    def _interrupt_until_released(self, chosen: Callable[[duckdb.DuckDBPyConnection], bool]) -> None:
        with self._idle:
            stopping = {cursor for cursor in self._active if chosen(cursor)}
            while stopping & self._active and self._connection is not None:
                for cursor in stopping & self._active:
                    cursor.interrupt()
                self._idle.wait(INTERRUPT_POLL_SECONDS)

    def close(self, wait_seconds: float = 30.0) -> None:
        """Stop the queries still running, checkpoint (fold the write-ahead log into the file)
        and close; safe to repeat. Interrupted work rolls back, so nothing is half-written."""
        with self._closing, deferred():
            if self._connection is None:
                return
            with self._idle:
                connection, self._connection = self._connection, None  # no new cursors from here
                deadline = time.monotonic() + wait_seconds
                while self._active and time.monotonic() < deadline:
                    for cursor in self._active:
                        cursor.interrupt()
                    self._idle.wait(INTERRUPT_POLL_SECONDS)
            connection.execute("CHECKPOINT")
            connection.close()
