"""Ctrl-C and SIGTERM while DuckDB works: stop the work, and report the signal as itself.

Python runs a signal's handler between bytecodes of the main thread, or when C code asks it
to, and DuckDB asks during a query and then handles what the handler raised its own way.
Measured with DuckDB 2.0: a signal that lands as a query starts is swallowed and the query
runs on (a SIGTERM to a long-running owner was lost), one that lands later comes back as
``RuntimeError("Query interrupted")`` (Ctrl-C during an ingest read as "cannot read FILE"),
and one that lands while the DuckDB extension initialises aborts the interpreter.

So the handler never raises inside DuckDB. Work on the database runs ``deferred()``: there a
stopping signal is only noted, the watcher thread (woken by ``signal.set_wakeup_fd`` the
moment the signal arrives, whatever the main thread is doing) calls the registered
interrupters, which stop the running queries, and on leaving the block the signal is raised
as ``KeyboardInterrupt`` (exit status 130 as a shell reports it) or ``SystemExit(143)``,
in place of whatever error the interrupted query raised.
"""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import NoReturn

STOPPING = (signal.SIGINT, signal.SIGTERM)

_pending: int | None = None  # a stopping signal the main thread has not raised yet
_deferring = 0  # depth of deferred() blocks in the main thread
_interrupters: list[Callable[[], None]] = []
_registry = threading.Lock()
_watching = False


def stop_on_signal(signum: int, frame: FrameType | None) -> None:
    """The handler for SIGINT and SIGTERM: raise at once, or at the end of a deferred block."""
    global _pending
    _pending = signum
    if _deferring == 0:
        _raise_pending()


@contextmanager
def deferred() -> Iterator[None]:
    """A stopping signal that arrives in the block (in the main thread; other threads are never
    signalled) is raised when the block ends, in place of any error the block raised."""
    global _deferring
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _deferring += 1
    try:
        yield
    except BaseException:
        _deferring -= 1
        if _deferring == 0 and _pending is not None:
            _raise_pending()
        raise
    _deferring -= 1
    if _deferring == 0 and _pending is not None:
        _raise_pending()


def add_interrupter(interrupt: Callable[[], None]) -> None:
    """Call ``interrupt`` (from the watcher thread) when SIGINT or SIGTERM arrives."""
    with _registry:
        _interrupters.append(interrupt)
    _watch()


def remove_interrupter(interrupt: Callable[[], None]) -> None:
    with _registry:
        if interrupt in _interrupters:
            _interrupters.remove(interrupt)


def _raise_pending() -> NoReturn:
    global _pending
    signum, _pending = _pending, None
    if signum == signal.SIGINT:
        raise KeyboardInterrupt from None
    raise SystemExit(128 + (signum or signal.SIGTERM)) from None


def _watch() -> None:
    """Start the watcher once per process, from the main thread (the only one that may set
    the wakeup descriptor), unless something else (an asyncio loop) already owns it."""
    global _watching
    if _watching or threading.current_thread() is not threading.main_thread():
        return
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    if previous != -1:
        signal.set_wakeup_fd(previous)  # the other owner was first: leave it its descriptor
        reader.close()
        writer.close()
        return
    _watching = True
    threading.Thread(target=_relay, args=(reader, writer), name="signal-watcher", daemon=True).start()


def _relay(reader: socket.socket, writer: socket.socket) -> None:
    """Runs for the life of the process; ``writer`` is held here so it stays open."""
    while True:
        for signum in reader.recv(64):
            with _registry:
                interrupters = list(_interrupters)
            if signum in STOPPING:
                for interrupt in interrupters:
                    interrupt()
