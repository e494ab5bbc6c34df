"""Home: the workspace at a glance, its status and recent activity, refreshed live."""

from __future__ import annotations

from datetime import UTC
from typing import ClassVar

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


class HomeScreen(ConsoleScreen):
    MODE: ClassVar[str] = "home"
    TITLE: ClassVar[str] = "Home"
    CSS_PATH = "home.tcss"

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="home-body"):
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
        self.query_one("#status-details", Static).update(_status_text(status))
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
        )


def _status_text(status: WorkspaceStatus) -> Text:
    counts = status.counts
    rows: list[tuple[str, str]] = [
        ("path", status.path),
        ("owner", status.owner.describe()),
        ("since", status.owner.started_at),
        ("schema", f"v{status.schema_version}"),
        ("tracking", status.tracking_uri),
        ("", ""),
        ("datasets", str(counts.datasets)),
        ("runs", "remote" if counts.runs is None else str(counts.runs)),
        ("models", "remote" if counts.models is None else str(counts.models)),
        ("deployments", str(counts.deployments)),
        ("open alerts", str(counts.open_alerts)),
    ]
    text = Text()
    for label, value in rows:
        text.append(f"{label:<12}", style="dim")
        text.append(f"{value}\n", style="bold red" if label == "open alerts" and counts.open_alerts else "")
    return text
