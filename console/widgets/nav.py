"""The row of screens under the header: number key and name, clickable with the mouse."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Click
from textual.widgets import Static


class NavLink(Static):
    def __init__(self, key: str, mode: str, title: str, current: bool) -> None:
        super().__init__(f" {key} {title} ", classes="nav-link -current" if current else "nav-link")
        self.mode = mode

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

    def __init__(self, current_mode: str) -> None:
        super().__init__()
        self._current_mode = current_mode

    def compose(self) -> ComposeResult:
        from console.screens import SCREENS

        for entry in SCREENS:
            yield NavLink(entry.key, entry.mode, entry.title, entry.mode == self._current_mode)
