"""The panel where a screen's long work shows itself: a progress bar and a live log.

Hidden until work starts; then every stage the engine reports is logged once (repeated
reports of the same stage only move the bar), and the outcome ends the log in green or red.
"""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, RichLog, Static

MAX_LINES = 300


class WorkPanel(Vertical):
    DEFAULT_CSS = """
    WorkPanel { display: none; height: 10; }
    WorkPanel.-active { display: block; }
    WorkPanel > RichLog { height: 1fr; }
    """

    def __init__(self, title: str | None = None, *, id: str, classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self._title = title
        self._last_stage: str | None = None
        self._lines: deque[str] = deque(maxlen=MAX_LINES)

    def compose(self) -> ComposeResult:
        if self._title:
            yield Static(self._title, classes="panel-title")
        yield ProgressBar(total=1.0, show_eta=False)
        yield RichLog(max_lines=MAX_LINES, wrap=True)

    def start(self, line: str) -> None:
        """New work began: show the panel, reset the bar, log what it is."""
        self.query_one(ProgressBar).update(progress=0.0)
        self._last_stage = None
        self.log_line(line)

    def progressed(self, stage: str, fraction: float | None) -> None:
        if fraction is not None:
            self.query_one(ProgressBar).update(progress=fraction)
        if stage != self._last_stage:
            self._last_stage = stage
            self.log_line(stage)

    def succeeded(self, line: str) -> None:
        self.query_one(ProgressBar).update(progress=1.0)
        self.log_line(Text(line, style="green"))

    def failed(self, line: str) -> None:
        self.log_line(Text(line, style="red"))

    def log_line(self, line: str | Text) -> None:
        self.add_class("-active")
        self.query_one(RichLog).write(line)
        self._lines.append(line.plain if isinstance(line, Text) else line)

    @property
    def lines(self) -> list[str]:
        """The lines logged (the newest ``MAX_LINES``), as plain text (for tests and screen readers)."""
        return list(self._lines)
