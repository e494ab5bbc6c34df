"""Blocking work off the event loop, and the one place its failures become visible.

``blocking_work(group)`` is the house's worker: a thread (the engine blocks), exclusive in
its group (a new refresh replaces a stale one), and never exiting the app on error. A worker
only posts messages; handlers on the screen own the state.

Failures become an error notification, never a crash: the app and every screen mix in
``NotifiesWorkerErrors``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from textual import work
from textual.dom import DOMNode
from textual.worker import Worker, WorkerState

from engine.errors import MlopsError

P = ParamSpec("P")
R = TypeVar("R")


def blocking_work(group: str) -> Callable[[Callable[P, R]], Callable[P, Worker[R]]]:
    """``@work(thread=True, exclusive=True, exit_on_error=False, group=group)``, named once."""

    def decorate(method: Callable[P, R]) -> Callable[P, Worker[R]]:
        return work(method, thread=True, exclusive=True, exit_on_error=False, group=group)

    return decorate


class NotifiesWorkerErrors(DOMNode):
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        message = str(error) if isinstance(error, MlopsError) else f"{type(error).__name__}: {error}"
        what = event.worker.group if event.worker.group != "default" else event.worker.name
        self.app.notify(message, title=f"{what} failed", severity="error", timeout=10)
        self.worker_failed(event.worker)

    def worker_failed(self, worker: Worker[object]) -> None:
        """Hook for a host to recover after a failure (e.g. reschedule a live refresh)."""
