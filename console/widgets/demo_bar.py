"""The line every screen shows while the demo runs in the console: how far it is and what it
is doing, or, if it failed, why (console/demo_tour.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static

from console.host import ConsoleHost

if TYPE_CHECKING:
    from console.demo_tour import DemoTour


class DemoBar(Horizontal):
    DEFAULT_CSS = """
    DemoBar { display: none; height: 1; background: $boost; padding: 0 1; }
    DemoBar.-active { display: block; }
    DemoBar > #demo-label { width: auto; text-style: bold; color: $accent; margin-right: 1; }
    DemoBar > ProgressBar { width: auto; margin-right: 1; }
    DemoBar > #demo-stage { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def compose(self) -> ComposeResult:
        yield Static("demo", id="demo-label")
        yield ProgressBar(total=1.0, show_eta=False)
        yield Static(id="demo-stage")

    def on_mount(self) -> None:
        """A screen shown for the first time mirrors the demo at once, not at its next report."""
        host = self.app
        if isinstance(host, ConsoleHost):
            self.show(host.demo)

    def show(self, tour: DemoTour | None) -> None:
        """Mirror the demo's state; hidden when no demo runs here (or it finished)."""
        shown = tour is not None and (tour.running or tour.failure is not None)
        self.set_class(shown, "-active")
        if tour is None or not shown:
            return
        self.query_one(ProgressBar).update(progress=tour.fraction)
        stage = self.query_one("#demo-stage", Static)
        if tour.failure is not None:
            stage.update(Text(f"failed: {tour.failure}", style="bold red"))
        else:
            hint = "  (a number key looks around; the demo goes on)" if tour.following else ""
            stage.update(Text.assemble(tour.stage, (hint, "dim")))
