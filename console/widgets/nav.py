"""The row of screens under the header: number key and name, clickable with the mouse."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Click
from textual.widgets import Static

from console.host import NavTarget


class NavLink(Static):
    def __init__(self, target: NavTarget, current: bool) -> None:
        super().__init__(
            f" {target.key} {target.title} ", classes="nav-link -current" if current else "nav-link"
        )
        self.mode = target.mode

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
