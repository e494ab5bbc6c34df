"""Closing an engine however its process ends: normally, on Ctrl-C, or on SIGTERM.

Ctrl-C already unwinds as ``KeyboardInterrupt``; SIGTERM by default kills the process
without unwinding, which would leave DuckDB's write-ahead log unfolded. While an engine is
open in the main thread, SIGTERM is turned into ``SystemExit`` so ``with`` blocks and
``finally`` clauses run, and ``atexit`` catches an engine nobody closed.
"""

from __future__ import annotations

import atexit
import signal
import threading
from collections.abc import Callable
from types import FrameType


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


class ShutdownGuard:
    """Arranges for ``close`` to run at exit; undone by ``disarm``."""

    def __init__(self, close: Callable[[], None]) -> None:
        self._close = close
        self._installed_sigterm = False
        atexit.register(close)
        in_main_thread = threading.current_thread() is threading.main_thread()
        if in_main_thread and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _exit_on_sigterm)
            self._installed_sigterm = True

    def disarm(self) -> None:
        atexit.unregister(self._close)
        in_main_thread = threading.current_thread() is threading.main_thread()
        if self._installed_sigterm and in_main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            self._installed_sigterm = False
