"""The console's shared widgets on a bare Textual app: in-place table updates and the work panel."""

from __future__ import annotations

from typing import Any

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from console.widgets.table_rows import selected_key, show_rows
from console.widgets.work_panel import WorkPanel


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row")
        yield WorkPanel("Work", id="work")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("name", "score")


def keys(table: DataTable[Any]) -> list[str | None]:
    return [row.key.value for row in table.ordered_rows]


def cells(table: DataTable[Any]) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row(row.key)] for row in table.ordered_rows]


async def test_rows_update_in_place_and_the_cursor_follows_its_row() -> None:
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(DataTable)
        show_rows(table, [("a", ["alpha", "1"]), ("b", ["beta", "2"]), ("c", ["gamma", "3"])])
        table.move_cursor(row=1)
        kept = table.get_cell("a", table.ordered_columns[0].key)

        show_rows(
            table, [("c", ["gamma", "9"]), ("d", ["delta", "4"]), ("a", ["alpha", "1"]), ("b", ["beta", "2"])]
        )
        await pilot.pause()
        assert keys(table) == ["c", "d", "a", "b"]
        assert cells(table)[0] == ["gamma", "9"]
        assert table.get_cell("a", table.ordered_columns[0].key) is kept  # unchanged: not re-added
        assert selected_key(table) == "b"  # the cursor stayed on its row, which moved

        show_rows(table, [("a", ["alpha", "1"]), ("d", ["delta", "4"])])
        assert keys(table) == ["a", "d"] and selected_key(table) in ("a", "d")
        show_rows(table, [("a", ["alpha", "1"]), ("d", ["delta", "4"])], select="d")
        assert selected_key(table) == "d"
        show_rows(table, [])
        assert keys(table) == [] and selected_key(table) is None


async def test_a_feed_keeps_the_cursor_on_its_newest_row() -> None:
    """Newest first (activity, alerts, requests): a cursor left on the top row stays on the top
    row as new rows arrive; moved down by the person, it stays on the row they chose."""
    app = TableApp()
    async with app.run_test():
        table = app.query_one(DataTable)
        show_rows(table, [("2", ["second", "2"]), ("1", ["first", "1"])], feed=True)
        show_rows(table, [("4", ["fourth", "4"]), ("3", ["third", "3"]), ("2", ["second", "2"])], feed=True)
        assert selected_key(table) == "4"
        table.move_cursor(row=1)  # "3"
        show_rows(table, [("5", ["fifth", "5"]), ("4", ["fourth", "4"]), ("3", ["third", "3"])], feed=True)
        assert selected_key(table) == "3"


async def test_style_changes_count_and_text_is_literal() -> None:
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(DataTable)
        show_rows(table, [("x", ["[bold]x[/bold]", Text("stale", style="yellow")])])
        show_rows(table, [("x", ["[bold]x[/bold]", Text("stale", style="green")])])
        await pilot.pause()
        name, score = table.get_row("x")
        assert isinstance(name, Text) and name.plain == "[bold]x[/bold]"
        assert isinstance(score, Text) and score.style == "green"
        with pytest.raises(ValueError, match="unique"):
            show_rows(table, [("x", ["a", "1"]), ("x", ["b", "2"])])


async def test_the_work_panel_logs_each_stage_once_and_the_outcome() -> None:
    app = TableApp()
    async with app.run_test() as pilot:
        panel = app.query_one(WorkPanel)
        assert not panel.display or not panel.has_class("-active")
        panel.start("ingesting data.csv")
        for fraction in (0.1, 0.2, 0.3):
            panel.progressed("reading data.csv", fraction)
        panel.progressed("hashing", 0.9)
        panel.failed("failed: the file is empty")
        await pilot.pause()
        assert panel.has_class("-active")
        assert panel.lines == [
            "ingesting data.csv",
            "reading data.csv",
            "hashing",
            "failed: the file is empty",
        ]


async def test_columns_are_wide_enough_before_the_table_is_next_idle() -> None:
    """DataTable measures new cells when idle; a frame drawn first would cache them clipped."""
    app = TableApp()
    async with app.run_test():
        table = app.query_one(DataTable)
        show_rows(table, [("a", ["a rather long name", "1"])])
        name, score = table.ordered_columns
        assert name.content_width == len("a rather long name") and score.content_width == len("score")
        show_rows(table, [("a", ["a rather long name", "12345678"])])
        assert table.ordered_columns[1].content_width == 8
