"""The one place worker failures become visible: an error notification, never a crash.

Workers are started with ``exit_on_error=False``, so an exception ends the worker in the
ERROR state instead of taking the app down. The app and every screen mix this in.
"""

from __future__ import annotations

from textual.dom import DOMNode
from textual.worker import Worker, WorkerState

from engine.errors import MlopsError


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
