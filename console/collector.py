"""Full garbage collections kept short, so they do not stall the event loop.

Measured here (benchmarks/console_live.py, with ``gc.callbacks`` timing each collection): a
full (generation 2) collection traverses every tracked object while holding the GIL, and once
the screens are mounted there are a few hundred thousand, mostly the console's own widgets,
strips and caches. The first switches to the later screens each met one of 60-160 ms, and
under replayed traffic, drift checks and a sweep they came every few seconds at 33-115 ms:
every event-loop stall over 90 ms coincided with one.

Most of those objects live as long as the app: a screen's widgets once it has been shown, the
modules and the engine's services. So after a screen's first paint, and after each automatic
full collection (what survives one is long-lived by definition), everything alive is frozen
(``gc.freeze``): later full collections skip it and stay a few milliseconds long. The cost is
that a garbage cycle among frozen objects is never collected; the console's long-lived
objects are freed with the app, and what was transient at a freeze is small and freed by
reference counting in the main.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any


class SurvivorFreezer:
    """While started, freezes what survives each automatic full collection, on the event loop
    (a collection runs in whichever thread allocated, and its callback must not collect)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def start(self) -> None:
        gc.callbacks.append(self._collected)

    def stop(self) -> None:
        if self._collected in gc.callbacks:
            gc.callbacks.remove(self._collected)

    def _collected(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info["generation"] == 2 and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(gc.freeze)


def freeze_now() -> None:
    """Freeze everything alive now (a screen just painted for the first time)."""
    gc.freeze()
