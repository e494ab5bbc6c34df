"""A DataTable with a filter box that ``/`` opens: the screen filters at the source.

The widget only reports the text (``FilterChanged``); the screen passes it to the engine so
filtering happens in DuckDB, never over rows already loaded in the widget.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Input

from console.messages import FilterChanged


class FilterInput(Input):
    BINDINGS = [Binding("escape", "close", "Clear filter")]

    def action_close(self) -> None:
        table = self.parent
        assert isinstance(table, FilterableTable)
        table.close_filter()


class FilterableTable(Vertical):
    DEFAULT_CSS = """
    FilterableTable { height: 1fr; }
    FilterableTable > FilterInput { display: none; height: 3; }
    FilterableTable.-filtering > FilterInput { display: block; }
    FilterableTable > DataTable { height: 1fr; }
    """

    def __init__(self, *, id: str, placeholder: str = "filter…") -> None:
        super().__init__(id=id)
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        # Disabled while hidden, so it never takes focus (or keys) until `/` opens it.
        yield FilterInput(placeholder=self._placeholder, disabled=True)
        yield DataTable(cursor_type="row", zebra_stripes=True)

    @property
    def table(self) -> DataTable[object]:
        return self.query_one(DataTable)

    @property
    def filter_text(self) -> str:
        return self.query_one(FilterInput).value

    def open_filter(self) -> None:
        box = self.query_one(FilterInput)
        self.add_class("-filtering")
        box.disabled = False
        box.focus()

    def close_filter(self) -> None:
        box = self.query_one(FilterInput)
        self.remove_class("-filtering")
        box.value = ""
        box.disabled = True
        self.table.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        assert self.id is not None
        self.post_message(FilterChanged(self.id, event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()
