"""A serving process's side of the prediction log: rows held in memory, handed to the owner in
batches.

A request only appends its rows to a list (under a lock, microseconds); a thread hands what has
gathered to the owner every ``FLUSH_SECONDS`` as one ``PredictionBatch`` (the owner inserts it
as one Arrow table: row-by-row inserts cost ~1,000x more). So a ``kill -9`` of a serving process
loses at most the rows of the last ``FLUSH_SECONDS``, and a graceful stop loses none: ``close``
hands over the rest after uvicorn has finished the requests in flight.

If the owner cannot take a batch (it is restarting, or busy past the call's time), the rows are
kept and offered again at the next flush; beyond ``MAX_HELD_ROWS`` the oldest are dropped and
counted (``mlops_predictions_dropped_total``), so a long outage costs log rows, not memory.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from engine.errors import MlopsError
from engine.serving import metrics
from engine.types.serving import PredictionBatch

FLUSH_SECONDS = 0.5
"""How often rows are handed over: the most a killed serving process can lose (documented as
"at most the last second" in docs/serving.md, which leaves room for a slow hand-over)."""
MAX_HELD_ROWS = 500_000
COLUMNS = tuple(column.name for column in fields(PredictionBatch))

LogRow = tuple[Any, ...]
"""One row in ``COLUMNS`` order."""


class PredictionRecorder:
    def __init__(self, hand_over: Callable[[PredictionBatch], object]) -> None:
        self._hand_over = hand_over
        self._rows: list[LogRow] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # one hand-over at a time keeps the rows in order
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False  # said once per outage, not every flush

    def add(self, rows: list[LogRow]) -> None:
        with self._lock:
            self._rows.extend(rows)
            excess = len(self._rows) - MAX_HELD_ROWS
            if excess > 0:
                del self._rows[:excess]
        if excess > 0:
            metrics.PREDICTIONS_DROPPED.inc(excess)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._keep_flushing, name="mlops-prediction-log", daemon=True)
        self._thread.start()

    def flush(self) -> int:
        """Hand what has gathered to the owner; returns how many rows it took. On failure the
        rows go back in front of any newer ones and the error is raised."""
        with self._flushing:
            with self._lock:
                taken, self._rows = self._rows, []
            if not taken:
                return 0
            try:
                self._hand_over(PredictionBatch(*(list(column) for column in zip(*taken, strict=True))))
            except BaseException:
                with self._lock:
                    self._rows[:0] = taken
                raise
            metrics.PREDICTIONS_LOGGED.inc(len(taken))
            return len(taken)

    def close(self) -> None:
        """Stop the flushing thread and hand over the rest (after the last request is answered)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self.flush()
        except MlopsError as error:
            with self._lock:
                lost, self._rows = len(self._rows), []
            metrics.PREDICTIONS_DROPPED.inc(lost)
            sys.stderr.write(f"prediction log: {lost} rows could not be handed over: {error}\n")

    def _keep_flushing(self) -> None:
        while not self._stopping.wait(FLUSH_SECONDS):
            try:
                self.flush()
            except MlopsError as error:
                if not self._failing:
                    sys.stderr.write(f"prediction log: rows kept until the owner takes them: {error}\n")
                self._failing = True
            else:
                if self._failing:
                    sys.stderr.write("prediction log: the owner takes rows again\n")
                self._failing = False
