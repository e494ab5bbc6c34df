"""Home: the workspace at a glance, its status and recent activity, refreshed live."""

from __future__ import annotations

from datetime import UTC
from itertools import zip_longest
from typing import ClassVar

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from console.screens.base import ConsoleScreen
from console.widgets.filter_table import FilterableTable
from console.widgets.table_rows import show_rows
from engine.facade import Facade
from engine.types.workspace import Event, WorkspaceStatus

EVENTS_SHOWN = 200
LABEL_WIDTH = 12
TWO_COLUMNS_FROM = 70  # the status as two columns (the workspace, its counts) from this width


class HomeScreen(ConsoleScreen):
    MODE: ClassVar[str] = "home"
    TITLE: ClassVar[str] = "Home"
    CSS_PATH = "home.tcss"

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="home-body", classes="panes"):
            with Vertical(id="status-panel", classes="panel"):
                yield Static("Workspace", classes="panel-title")
                yield Static("opening the workspace…", id="status-details")
            with Vertical(id="activity-panel", classes="panel"):
                yield Static("Recent activity", classes="panel-title")
                yield FilterableTable(id="events", placeholder="filter activity (kind, subject, message)…")

    def on_mount(self) -> None:
        table = self.query_one("#events", FilterableTable).table
        table.add_columns("time (UTC)", "kind", "message", "subject")

    def load_live_data(self, engine: Facade) -> list[Event]:
        return engine.events.recent(EVENTS_SHOWN, contains=self.filters.get("events", ""))

    def show_live_data(self, status: WorkspaceStatus, events: list[Event]) -> None:
        self.query_one("#status-details", Static).update(StatusText(status))
        show_rows(
            self.query_one("#events", FilterableTable).table,
            [
                (
                    str(event.id),
                    [
                        event.occurred_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                        event.kind,
                        event.message,
                        event.subject,
                    ],
                )
                for event in events
            ],
            feed=True,
        )


class StatusText:
    """The workspace and what it holds: one column in the side pane; where the pane spans a narrow
    terminal above the activity, the workspace and its counts side by side with the tracking URI
    under both, so the activity keeps its rows."""

    def __init__(self, status: WorkspaceStatus) -> None:
        counts = status.counts
        self.workspace = [
            _line("path", status.path),
            _line("owner", status.owner.describe()),
            _line("since", status.owner.started_at),
            _line("schema", f"v{status.schema_version}"),
        ]
        self.tracking = _line("tracking", status.tracking_uri)
        self.counts = [
            _line("datasets", str(counts.datasets)),
            _line("runs", "remote" if counts.runs is None else str(counts.runs)),
            _line("models", "remote" if counts.models is None else str(counts.models)),
            _line("deployments", str(counts.deployments)),
            _line("open alerts", str(counts.open_alerts), "bold red" if counts.open_alerts else ""),
        ]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.max_width < TWO_COLUMNS_FROM:
            yield Text("\n").join([*self.workspace, self.tracking, Text(), *self.counts])
            return
        grid = Table.grid(padding=(0, 2))
        grid.add_column(ratio=1)
        grid.add_column(no_wrap=True)
        for left, right in zip_longest(self.workspace, self.counts, fillvalue=Text()):
            grid.add_row(left, right)
        yield grid
        yield self.tracking  # the longest line, under both columns


def _line(label: str, value: str, style: str = "") -> Text:
    return Text.assemble((f"{label:<{LABEL_WIDTH}}", "dim"), (value, style))
