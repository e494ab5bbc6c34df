from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.console import Console
from textual.notifications import SeverityLevel
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Select, Static

from console.app import MlopsApp
from engine.facade import Attachment, Claim, Engine


class RecordingApp(MlopsApp):
    """The real console, keeping the title and message of every notification it shows (tests run
    the app headless, where Textual shows no toasts)."""

    def __init__(
        self, opening: Claim | Attachment, serve: Callable[[Engine], None] | None = None, demo: bool = False
    ) -> None:
        super().__init__(opening, serve=serve, demo=demo)
        self.notifications: list[str] = []

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        self.notifications.append(f"{title}\n{message}")
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)


@pytest.fixture
def console_app(workspace: Path) -> Iterator[RecordingApp]:
    """The real console on a fresh workspace, refreshing fast so tests need not wait long."""
    (workspace / ".mlops" / "config.toml").write_text("[console]\nrefresh_seconds = 0.1\n")
    app = RecordingApp(Engine.claim(workspace, command="mlops console"))
    yield app
    app.close_engine()


async def until(
    pilot: Pilot[object], condition: Callable[[], bool], timeout: float = 60, what: str = "condition"
) -> None:
    """Let the app run until ``condition`` holds, failing after ``timeout`` seconds (generous: the
    suite runs on both cores, so a busy machine must not fail a test that is only slow)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def form_opened(pilot: Pilot[object], app: MlopsApp) -> Screen[object]:
    """The form the last key opened, once it is on screen with its fields (some forms open
    after a worker has read their choices)."""
    await until(pilot, lambda: bool(app.screen.query("#submit")), what="the form")
    # A Select mounts its parts after itself: setting its value before then fails.
    await until(
        pilot,
        lambda: all(select.query("SelectCurrent #label") for select in app.screen.query(Select)),
        what="the form's choices",
    )
    # A click on a button not laid out yet hits an empty region and is lost (seen under load).
    await until(pilot, lambda: app.screen.query_one("#submit").region.area > 0, what="the form laid out")
    return app.screen


async def choose(pilot: Pilot[object], form: Screen[object], field: str, value: str) -> None:
    """Pick ``value`` in a form's Select, and let the fields that follow it take their choices."""
    form.query_one(f"#field-{field}", Select).value = value
    await pilot.pause()


def rows_of(app: MlopsApp, selector: str) -> list[list[str]]:
    """The rows of the DataTable at ``selector`` on the current screen, as text."""
    table = app.screen.query_one(selector, DataTable)
    return [[str(value) for value in table.get_row(row.key)] for row in table.ordered_rows]


def notifications(app: MlopsApp) -> list[str]:
    """Every notification the app showed so far, as "title\nmessage"."""
    assert isinstance(app, RecordingApp)
    return app.notifications


def notified(app: MlopsApp, text: str) -> bool:
    return any(text in shown for shown in notifications(app))


def plain_text(widget: Static, width: int = 160) -> str:
    """What a Static shows, as plain text (its content may be any Rich renderable)."""
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()
