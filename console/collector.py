"""Full garbage collections kept short, so they do not stall the event loop.

Measured here (benchmarks/console_live.py, with ``gc.callbacks`` timing each collection): a
full (generation 2) collection traverses every tracked object while holding the GIL, and once
the screens are mounted there are a few hundred thousand, mostly the console's own widgets,
strips and caches. The first switches to the later screens each met one of 60-160 ms, and
under replayed traffic, drift checks and a sweep they came every few seconds at 33-115 ms:
every event-loop stall over 90 ms coincided with one.

Most of those objects live as long as the app: a screen's widgets once it has been shown, the
modules and the engine's services. So after a screen's first paint, and after each automatic
full collection (what survives one is mostly long-lived), everything alive is frozen
(``gc.freeze``): later full collections skip it and stay a few milliseconds long.

A garbage cycle among frozen objects is never collected, though: widgets a recompose removed,
rows a table dropped. Measured under replay at 200 req/s with drift checks (no key pressed),
that kept about 400 objects a second. So every ``SWEEP_SECONDS`` the frozen set is unfrozen
at the next full collection's end; the one after sweeps everything once (0.6-1 s measured
after a minute of that load, most of it on the frozen objects) and its survivors are frozen
again: memory stays bounded, and that one long pause comes every half hour at most. (The
frozen set is not counted to decide: ``gc.get_freeze_count`` walks it, tens of milliseconds.)
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

SWEEP_SECONDS = 1800.0


class Freezer:
    """Freezes the console's long-lived objects (one per process: ``FREEZER``)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._swept_at = time.monotonic()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Freeze what survives each automatic full collection, on ``loop`` (a collection runs
        in whichever thread allocated, and its callback must not collect)."""
        self._loop = loop
        gc.callbacks.append(self._collected)

    def stop(self) -> None:
        if self._collected in gc.callbacks:
            gc.callbacks.remove(self._collected)
        self._loop = None

    def freeze(self) -> None:
        """Freeze everything alive now (a screen has just been shown for the first time)."""
        gc.freeze()

    def _collected(self, phase: str, info: dict[str, Any]) -> None:
        loop = self._loop
        if phase == "stop" and info["generation"] == 2 and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._after_full_collection)

    def _after_full_collection(self) -> None:
        if time.monotonic() - self._swept_at > SWEEP_SECONDS:
            gc.unfreeze()  # the next full collection sweeps everything, cycles kept frozen too
            self._swept_at = time.monotonic()
        else:
            gc.freeze()


FREEZER = Freezer()
