from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from console.app import MlopsApp
from engine.facade import Engine


@pytest.fixture
def console_app(workspace: Path) -> Iterator[MlopsApp]:
    """The real console on a fresh workspace, refreshing fast so tests need not wait long."""
    (workspace / ".mlops" / "config.toml").write_text("[console]\nrefresh_seconds = 0.1\n")
    app = MlopsApp(Engine.claim(workspace, command="mlops console"))
    # Notifications stay until the test looks: on a loaded machine 5 s can pass first.
    app.NOTIFICATION_TIMEOUT = 600  # type: ignore[misc]
    yield app
    app.close_engine()


async def until(
    pilot: Pilot[object], condition: Callable[[], bool], timeout: float = 20, what: str = "condition"
) -> None:
    """Let the app run until ``condition`` holds, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def rows_of(app: MlopsApp, selector: str) -> list[list[str]]:
    """The rows of the DataTable at ``selector`` on the current screen, as text."""
    table = app.screen.query_one(selector, DataTable)
    return [[str(value) for value in table.get_row(row.key)] for row in table.ordered_rows]


def tables_settled(app: MlopsApp) -> bool:
    """Every DataTable on screen has sized its columns for its rows (Textual does it when idle);
    snapshots wait for this so column widths never depend on timing."""
    return all(not table._require_update_dimensions for table in app.screen.query(DataTable))


def plain_text(widget: Static, width: int = 160) -> str:
    """What a Static shows, as plain text (its content may be any Rich renderable)."""
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()
