"""The header every screen shows: which workspace, who owns it, and what it holds."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from engine.status import WorkspaceStatus


class WorkspaceHeader(Static):
    DEFAULT_CSS = """
    WorkspaceHeader {
        height: 1;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    """

    def __init__(self, workspace_path: str) -> None:
        super().__init__(id="workspace-header")
        self._workspace_path = workspace_path
        self.update(self._opening_text())

    def _opening_text(self) -> Text:
        return Text.assemble(("mlops ", "bold"), (self._workspace_path, "bold"), ("  opening…", "dim"))

    def show_status(self, status: WorkspaceStatus) -> None:
        counts = status.counts
        parts: list[tuple[str, str] | str] = [
            ("mlops ", "bold"),
            (status.path, "bold"),
            "  owner ",
            (status.owner.describe(), "italic"),
        ]
        for label, value in (
            ("datasets", counts.datasets),
            ("runs", counts.runs),
            ("models", counts.models),
            ("deployments", counts.deployments),
        ):
            parts += [f"  {label} ", ("–" if value is None else str(value), "bold")]
        alert_style = "bold red" if counts.open_alerts else "bold"
        parts += ["  alerts ", (str(counts.open_alerts), alert_style)]
        self.update(Text.assemble(*parts))
