"""What every command module shares: the engine for one command, and tables that stay readable.

Cells are text as given: a value from the data (``[bold]`` in a CSV cell, a path with brackets)
is shown literally, never read as Rich markup. A cell that should be styled is a Rich ``Text``
(``styled`` builds one from markup the command itself wrote).

A table wider than the terminal is not squeezed into a grid of empty cells: it is shown with
the columns that fit and a note naming the rest (``overflow="columns"``, for listings), or as
one block per row (``overflow="records"``, like ``psql``'s expanded display, for rows of data,
where every column counts); a listing too narrow for two columns falls back to records.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from engine.cli.streams import streams
from engine.errors import WorkspaceLocked

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from engine.cli.output import Output
    from engine.facade import Engine

Overflow = Literal["records", "columns"]


hosted_engine: ContextVar[Engine | None] = ContextVar("hosted_engine", default=None)
"""Set while this process runs a client's command (engine.cli.run_for_client): its engine."""
client_cwd: ContextVar[str | None] = ContextVar("client_cwd", default=None)
"""Set with ``hosted_engine``: the folder the client's relative paths are relative to."""


@contextmanager
def opened(args: argparse.Namespace, command: str) -> Iterator[Engine]:
    """The workspace's engine for one command: the owner's, for a client's command it runs;
    otherwise this process owns the workspace (``command`` names it) and, while the command
    runs, hosts other processes' commands (engine/host)."""
    hosted = hosted_engine.get()
    if hosted is not None:
        yield hosted
        return
    from engine.cli import host_commands

    engine = _open_or_find_host(args, command)
    with engine:
        host_commands(engine)
        yield engine


def _open_or_find_host(args: argparse.Namespace, command: str) -> Engine:
    """Own the workspace, or raise ``OwnerHosting`` when a process that hosts it owns it."""
    from engine.facade import Engine
    from engine.host.client import wait_for_owner

    while True:
        try:
            return Engine.open(args.workspace, command=f"mlops {command}")
        except WorkspaceLocked:
            found = wait_for_owner(args.workspace)
            if found == "hosting":
                raise OwnerHosting from None
            if found == "busy":
                raise


class OwnerHosting(Exception):
    """The workspace turned out to be owned by a process that hosts it (it took the lock as this
    command started): ``engine.cli.main`` forwards the command there instead."""


def client_path(text: str) -> str:
    """An argparse ``type`` for a path the user typed: relative to the client's folder when the
    command runs in the workspace's owner (which has a folder of its own), as typed otherwise."""
    folder = client_cwd.get()
    return text if folder is None or Path(text).is_absolute() else str(Path(folder) / text)


def client_path_or_name(text: str) -> str:
    """``client_path`` for a value that is a file (it has a suffix or a folder) or else a name."""
    return client_path(text) if os.sep in text or Path(text).suffix else text


def styled(markup: str) -> Text:
    """A cell styled with Rich markup written by the command (never with data in it unescaped)."""
    from rich.text import Text

    return Text.from_markup(markup)


def table(
    console: Console,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    empty: str = "no rows",
    overflow: Overflow = "columns",
) -> None:
    """Rows under headers, fitted to the terminal's width (see the module's docstring). A cell
    that is not a Rich ``Text`` is shown as ``str()`` of it, literally."""
    from rich.text import Text

    if not rows:
        console.print(empty, markup=False, highlight=False)
        return
    cells = [[cell if isinstance(cell, Text) else Text(str(cell)) for cell in row] for row in rows]
    # A column can narrow to its longest word: prose wraps, an identifier is never cut.
    widths = [
        max([longest_word(Text(header)), *(longest_word(row[index]) for row in cells)])
        for index, header in enumerate(headers)
    ]
    shown = _columns_that_fit(widths, console.width)
    if shown == len(headers) or (overflow == "columns" and shown >= 2):
        _print_table(console, headers[:shown], [row[:shown] for row in cells])
        hidden = headers[shown:]
        if hidden:
            console.print(
                f"({len(hidden)} more {'column' if len(hidden) == 1 else 'columns'} not shown: "
                f"{', '.join(hidden)}; widen the terminal or add --json)",
                style="dim",
                markup=False,
                highlight=False,
            )
        return
    _print_records(console, headers, cells)


def longest_word(cell: Text) -> int:
    from rich.cells import cell_len

    return max((cell_len(word) for word in cell.plain.split()), default=0)


def _columns_that_fit(widths: list[int], available: int) -> int:
    """How many leading columns fit at their narrowest: Rich's box draws a border, then each
    column's content with its padding and a separator."""
    shown, used = 0, 1
    while shown < len(widths) and used + widths[shown] + 3 <= available:
        used += widths[shown] + 3
        shown += 1
    return shown


def _print_table(console: Console, headers: Sequence[str], rows: list[list[Text]]) -> None:
    from rich.table import Table

    shown = Table(*headers, header_style="bold")
    for row in rows:
        shown.add_row(*row)
    console.print(shown)


def _print_records(console: Console, headers: Sequence[str], rows: list[list[Text]]) -> None:
    """One block per row: a rule with the row's number, then each column's name and value."""
    from rich.table import Table

    for number, row in enumerate(rows, start=1):
        console.rule(f"row {number}", align="left", style="dim")
        block = Table.grid(padding=(0, 2))
        block.add_column(style="bold", no_wrap=True)
        block.add_column(overflow="fold")
        for header, cell in zip(headers, row, strict=True):
            block.add_row(header, cell)
        console.print(block)


def jsonable(value: Any) -> Any:
    """A value of a result row as JSON prints it: times as ISO text, the rest as it is."""
    return value.isoformat() if hasattr(value, "isoformat") else value


T = TypeVar("T")


def with_spinner(out: Output, message: str, work: Callable[[], T]) -> T:
    """``work()`` under a spinner saying ``message`` on a terminal's stderr (none with --json)."""
    target = streams()
    if out.as_json or not target.stderr.isatty():
        return work()
    with target.console(stderr=True).status(message):
        return work()
