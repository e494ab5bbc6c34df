"""The header every screen shows: which workspace, who owns it, what it holds, and what is
live: each model's champion, where the inference server answers and how busy it is, the next
scheduled job, and the unacknowledged alerts.

Two parts, so the live figures stay whole on a narrow terminal and the path is what gets cut.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from engine.types.workspace import LiveState, WorkspaceStatus


class WorkspaceHeader(Horizontal):
    DEFAULT_CSS = """
    WorkspaceHeader {
        height: 1;
        background: $panel;
        color: $foreground;
        padding: 0 1;
    }
    WorkspaceHeader > #header-where { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    WorkspaceHeader > #header-counts { width: auto; }
    WorkspaceHeader > #header-stale { width: auto; color: $warning; }
    """

    def __init__(self, workspace_path: str) -> None:
        super().__init__(id="workspace-header")
        self._workspace_path = workspace_path

    def compose(self) -> ComposeResult:
        yield Static(
            Text.assemble(("mlops ", "bold"), (self._workspace_path, "bold"), ("  opening…", "dim")),
            id="header-where",
        )
        yield Static(id="header-stale")
        yield Static(id="header-counts")

    def show_status(self, status: WorkspaceStatus) -> None:
        self.query_one("#header-where", Static).update(
            Text.assemble(
                ("mlops ", "bold"), (status.path, "bold"), "  owner ", (status.owner.describe(), "italic")
            )
        )
        counts = status.counts
        parts: list[tuple[str, str] | str] = []
        live = status.live
        if live is None:  # an owner of an older version: its counts only
            for label, value in (
                ("datasets", counts.datasets),
                ("runs", counts.runs),
                ("models", counts.models),
                ("deployments", counts.deployments),
            ):
                parts += [f"  {label} ", ("remote" if value is None else str(value), "bold")]
        else:
            parts += _live_parts(live)
        parts += ["  alerts ", (str(counts.open_alerts), "bold red" if counts.open_alerts else "bold")]
        self.query_one("#header-counts", Static).update(Text.assemble(*parts))

    def show_stale(self, since: datetime | None) -> None:
        """Mark the figures shown as read at ``since`` (a refresh is late or failed); None clears it."""
        self.query_one("#header-stale", Static).update(
            "" if since is None else f"  stale since {since.strftime('%H:%M:%S')}"
        )

    @property
    def text(self) -> str:
        """What the header says, as plain text (for tests and screen readers)."""
        return " ".join(str(static.render()) for static in self.query(Static))


def _live_parts(live: LiveState) -> list[tuple[str, str] | str]:
    parts: list[tuple[str, str] | str] = []
    if live.champions:
        champions = ", ".join(f"{name} v{version}" for name, version in live.champions.items())
        parts += ["  champion ", (champions, "bold green")]
    if live.server_url is None:
        parts += ["  serving ", ("off", "dim")]
    else:
        address = live.server_url.removeprefix("http://")
        parts += ["  serving ", (address, "bold"), f" {live.requests_per_second:.1f} req/s"]
    if live.next_job is not None and live.next_job_at is not None:
        parts += ["  next ", (f"{live.next_job} {live.next_job_at[11:16]}", "bold")]
    return parts
