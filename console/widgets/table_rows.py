"""Showing rows in a DataTable by updating it in place, so a refresh costs what changed.

Clearing and refilling a table re-measures every cell (tens of milliseconds for a few hundred
rows, on the event loop, at every refresh of a live screen); ``show_rows`` updates only the
cells that differ, removes rows that went, adds rows that came, and restores the wanted order
with one sort. The cursor stays on the row it was on (by key) wherever that row moved, or goes
to the row the caller selects. Moving the cursor to another row posts ``RowHighlighted`` as a
user's move does; a screen that selects a row itself should act on its selection directly.

Every text cell is shown literally: a ``str`` becomes a Rich ``Text``, so a value from the
data such as ``[bold]`` or ``[/x]`` is never read as markup (DataTable would parse it).

Columns are widened here, at once, for the text they now hold. DataTable measures new cells
only when it is next idle, and a frame drawn before that caches each cell cut to the old
width; the cache is not dropped when the width grows, so values stayed clipped ("churn@" for
"churn@v2") until the row changed again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

Row = tuple[str, Sequence[Any]]
"""A row's key and its cells, one per column: ``str``, ``Text`` or any renderable, except that
the first cell is text (``str`` or ``Text``)."""


def show_rows(
    table: DataTable[Any], rows: Sequence[Row], select: str | None = None, feed: bool = False
) -> None:
    """Make ``table`` show exactly ``rows``, in order, changing as little as it can; the cursor
    ends on ``select`` if given and shown, else on the row it was on. ``feed``: the newest rows
    come first, and a cursor on the first row stays on the first row as new ones arrive (it
    would otherwise follow its old row down, scrolling the newest out of view)."""
    wanted = dict(rows)
    if len(wanted) != len(rows):
        raise ValueError("row keys must be unique")
    at_top = feed and table.row_count > 0 and table.cursor_row == 0
    cursor_key = select if select in wanted else (rows[0][0] if at_top and rows else selected_key(table))
    columns = [column.key for column in table.ordered_columns]
    shown_cells: list[list[Any]] = []
    for row in list(table.ordered_rows):
        if row.key.value not in wanted:
            table.remove_row(row.key)
    shown = {row.key.value for row in table.ordered_rows}
    for key, raw in wanted.items():
        if key not in shown:
            cells = [_literal(cell) for cell in raw]
            # The first cell is a copy made here, so the sort below can tell rows apart by it.
            table.add_row(_copy(cells[0]), *cells[1:], key=key)
            shown_cells.append(cells)
            continue
        changed = [
            (column, _literal(cell))
            for column, cell in zip(columns, raw, strict=True)
            if not _same(table.get_cell(key, column), cell)
        ]
        for column, cell in changed:
            first = column == columns[0]
            table.update_cell(key, column, _copy(cell) if first else cell, update_width=True)
        if changed:
            shown_cells.append([_literal(cell) for cell in raw])
    _widen(table, shown_cells)
    order = [key for key, _ in rows]
    if [row.key.value for row in table.ordered_rows] != order and columns:
        rank = {id(table.get_cell(key, columns[0])): position for position, key in enumerate(order)}
        table.sort(columns[0], key=lambda first_cell: rank[id(first_cell)])
    if cursor_key in wanted:
        table.move_cursor(row=order.index(cursor_key))


def _widen(table: DataTable[Any], rows: list[list[Any]]) -> None:
    """Each auto-width column as wide as the widest text it was just given (see the module)."""
    for index, column in enumerate(table.ordered_columns):
        widths = [_width(row[index]) for row in rows]
        if column.auto_width and widths:
            column.content_width = max(column.content_width, *widths)


def _width(cell: Any) -> int:
    return (
        max((cell_len(line) for line in cell.plain.split("\n")), default=0) if isinstance(cell, Text) else 0
    )


def selected_key(table: DataTable[Any]) -> str | None:
    """The key of the row under the cursor, or None for an empty table."""
    if not table.row_count:
        return None
    row = min(table.cursor_row, table.row_count - 1)
    return table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value


def _literal(cell: Any) -> Any:
    return Text(cell) if isinstance(cell, str) else cell


def _copy(cell: Any) -> Any:
    if not isinstance(cell, Text):
        raise TypeError(f"a row's first cell must be text, not {type(cell).__name__}")
    return cell.copy()


def _same(shown: Any, wanted: Any) -> bool:
    """Equal as shown, without building a Text for every cell of every refresh: a ``str`` is the
    same as a plain Text of it; Rich's Text equality ignores the base style, so that counts too."""
    if isinstance(shown, Text) and isinstance(wanted, str):
        return not shown.style and not shown.spans and shown.plain == wanted
    if isinstance(shown, Text) and isinstance(wanted, Text):
        return shown.plain == wanted.plain and shown.style == wanted.style and shown.spans == wanted.spans
    return bool(shown == wanted)
