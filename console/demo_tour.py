"""The demo inside the console (``mlops demo --console``; ``make run`` on a new workspace).

The engine's demo runs in one of the console's workers; each part it begins moves the console
to the screen where that part shows (the datasets landing, the runs, the champion, the live
traffic, the alerts, the loop's turn), and a bar on every screen says what it is doing. A
number key takes the person wherever they like: from then on the console stays where they
put it, and the demo goes on.
"""

from __future__ import annotations

from dataclasses import dataclass

PART_SCREENS = {
    "data": "datasets",
    "features": "features",
    "models": "experiments",
    "pipeline": "experiments",
    "promote": "models",
    "live": "serving",
    "labels": "monitoring",
    "retrain": "scheduler",
    "done": "home",
}
"""Where each part of the demo (engine/demo STAGES) shows; a part not named here moves nothing."""


STOP_SECONDS = 30.0
"""How long a console quitting mid-demo waits for the demo to stop: it stops at its next
progress report (a few seconds at most: a replayed week is four), then the workspace closes."""


class DemoStopped(Exception):
    """Raised in the demo's thread, at its next progress report, when the console quits."""


DWELL_SECONDS = 1.5
"""The least time the tour keeps a screen before showing the next part's: parts that take less
(the feature store's) are passed over rather than flashed."""


@dataclass
class DemoTour:
    """The demo running in this console: what it is doing, and whether the screens follow it."""

    stage: str = "starting"
    fraction: float = 0.0
    following: bool = True
    running: bool = True
    failure: str | None = None
    wanted: str | None = None  # the screen of the newest part, not shown yet
    shown_at: float = -DWELL_SECONDS  # when the tour last showed a screen (monotonic seconds)

    def began(self, part: str) -> None:
        """A part began: its screen is the one to show next, while the person has not chosen one."""
        if self.following and part in PART_SCREENS:
            self.wanted = PART_SCREENS[part]

    def wait_before_showing(self, now: float) -> float:
        """Seconds until the next screen may be shown (never 0: a Textual timer cannot be)."""
        return max(0.05, self.shown_at + DWELL_SECONDS - now)

    def take_wanted(self, now: float) -> str | None:
        """The screen to show now (None: nothing, or the person looks around themselves)."""
        wanted, self.wanted = self.wanted, None
        if wanted is None or not self.following:
            return None
        self.shown_at = now
        return wanted

    def progressed(self, stage: str, fraction: float | None) -> None:
        self.stage = stage
        if fraction is not None:
            self.fraction = fraction

    def failed(self, why: str) -> None:
        self.running = False
        self.failure = why
