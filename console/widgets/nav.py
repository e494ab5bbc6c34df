"""The row of screens under the header: number key and name, clickable with the mouse. Where
the names do not all fit (80 columns), the other screens show their number only."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Click, Resize
from textual.widgets import Static

from console.host import NavTarget


class NavLink(Static):
    def __init__(self, target: NavTarget, current: bool) -> None:
        super().__init__(
            self.label(target, compact=False), classes="nav-link -current" if current else "nav-link"
        )
        self.target = target
        self.mode = target.mode
        self.current = current

    @staticmethod
    def label(target: NavTarget, compact: bool) -> str:
        return f" {target.key} " if compact else f" {target.key} {target.title} "

    def show(self, compact: bool) -> None:
        self.update(self.label(self.target, compact and not self.current))

    async def on_click(self, event: Click) -> None:
        event.stop()
        await self.app.run_action(f"go('{self.mode}')")


class NavBar(Horizontal):
    DEFAULT_CSS = """
    NavBar { height: 1; background: $boost; }
    NavBar .nav-link { width: auto; color: $text-muted; }
    NavBar .nav-link:hover { background: $primary 30%; }
    NavBar .nav-link.-current { color: $text; background: $primary; text-style: bold; }
    """

    def __init__(self, current_mode: str, targets: Sequence[NavTarget]) -> None:
        super().__init__()
        self._current_mode = current_mode
        self._targets = targets

    def compose(self) -> ComposeResult:
        for target in self._targets:
            yield NavLink(target, target.mode == self._current_mode)

    def on_resize(self, event: Resize) -> None:
        full = sum(len(NavLink.label(target, compact=False)) for target in self._targets)
        for link in self.query(NavLink):
            link.show(compact=event.size.width < full)
