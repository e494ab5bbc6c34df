"""Blocking work off the event loop, and the one place its failures become visible.

``blocking_work(group)`` is the house's worker: a thread (the engine blocks), exclusive in
its group (a new refresh replaces a stale one), and never exiting the app on error. A worker
only posts messages; handlers on the screen own the state.

Failures become an error notification, never a crash: the app and every screen mix in
``NotifiesWorkerErrors``. ``showing_work(group)`` is the same worker for a read that only
refreshes what is on screen: when the owner this console is attached to leaves during it, its
failure is not news (the app says the owner left, takes over and refreshes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from textual import work
from textual.dom import DOMNode
from textual.worker import Worker, WorkerState

from engine.errors import MlopsError, OwnerGone

P = ParamSpec("P")
R = TypeVar("R")


def blocking_work(group: str) -> Callable[[Callable[P, R]], Callable[P, Worker[R]]]:
    """``@work(thread=True, exclusive=True, exit_on_error=False, group=group)``, named once."""

    def decorate(method: Callable[P, R]) -> Callable[P, Worker[R]]:
        return work(method, thread=True, exclusive=True, exit_on_error=False, group=group)

    return decorate


SHOWING_GROUPS: set[str] = set()


def showing_work(group: str) -> Callable[[Callable[P, R]], Callable[P, Worker[R]]]:
    """``blocking_work`` for a read that only refreshes what is shown (see the module's doc)."""
    SHOWING_GROUPS.add(group)
    return blocking_work(group)


class NotifiesWorkerErrors(DOMNode):
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, OwnerGone) and event.worker.group in SHOWING_GROUPS:
            self.worker_failed(event.worker)
            return
        message = str(error) if isinstance(error, MlopsError) else f"{type(error).__name__}: {error}"
        what = event.worker.group if event.worker.group != "default" else event.worker.name
        self.app.notify(message, title=f"{what} failed", severity="error", timeout=10)
        self.worker_failed(event.worker)

    def worker_failed(self, worker: Worker[object]) -> None:
        """Hook for a host to recover after a failure (e.g. reschedule a live refresh)."""
