"""The help overlay (``?``): every key the current screen answers to, and where it comes from."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from console.widgets.table_rows import show_rows

HelpRow = tuple[str, str, str]


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape,question_mark,q", "dismiss", "Close help"),
    ]

    def __init__(self, title: str, rows: list[HelpRow]) -> None:
        super().__init__()
        self._title = title
        self._rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static(f"Keys — {self._title}", id="help-title")
            table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns("key", "action", "from")
            show_rows(table, [(str(index), list(row)) for index, row in enumerate(self._rows)])
            yield table
            yield Static(
                "Mouse: click a screen's name to switch, a footer key to run it, a row to select it. "
                "ctrl+p opens the command palette.  esc / ? / q close this help.",
                id="help-mouse",
            )
