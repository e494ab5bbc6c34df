"""Closing an engine however its process ends: normally, on Ctrl-C, or on SIGTERM.

Ctrl-C already unwinds as ``KeyboardInterrupt``; SIGTERM by default kills the process
without unwinding, which would leave DuckDB's write-ahead log unfolded. While an engine is
open in the main thread, SIGTERM is turned into ``SystemExit`` so ``with`` blocks and
``finally`` clauses run, and ``atexit`` catches an engine nobody closed. A query running
when either arrives is stopped and reports the signal, not an error (``engine.signals``).
"""

from __future__ import annotations

import atexit
import signal
import threading
from collections.abc import Callable
from typing import Any

from engine.signals import add_interrupter, remove_interrupter, stop_on_signal


class ShutdownGuard:
    """Arranges for ``close`` to run at exit and ``interrupt`` (stop running queries) on
    SIGINT or SIGTERM; undone by ``disarm``. Armed before the owner lock is taken, so no
    signal finds the workspace held and the process unable to unwind."""

    def __init__(self, close: Callable[[], None], interrupt: Callable[[], None] = lambda: None) -> None:
        self._close = close
        self._interrupt = interrupt
        self._replaced: dict[signal.Signals, Any] = {}  # signal -> the handler it had before
        atexit.register(self._close_at_exit)
        add_interrupter(self._interrupt_on_signal)
        if threading.current_thread() is threading.main_thread():
            for signum, default in (
                (signal.SIGTERM, signal.SIG_DFL),
                (signal.SIGINT, signal.default_int_handler),
            ):
                if signal.getsignal(signum) is default:
                    self._replaced[signum] = signal.signal(signum, stop_on_signal)

    def hand_over(self, close: Callable[[], None], interrupt: Callable[[], None]) -> None:
        """What to close and interrupt from now on (the claim's lock becomes the engine)."""
        self._close, self._interrupt = close, interrupt

    def disarm(self) -> None:
        atexit.unregister(self._close_at_exit)
        remove_interrupter(self._interrupt_on_signal)
        if self._replaced and threading.current_thread() is threading.main_thread():
            for signum, previous in self._replaced.items():
                signal.signal(signum, previous)
            self._replaced = {}

    def _close_at_exit(self) -> None:
        self._close()

    def _interrupt_on_signal(self) -> None:
        self._interrupt()
