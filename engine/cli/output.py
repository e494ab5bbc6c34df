"""How CLI commands speak: one JSON document with ``--json``, Rich text otherwise.

Commands build a plain dict (what ``--json`` prints) and a function that renders it for a
person, so both faces always show the same facts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.cli.streams import streams

if TYPE_CHECKING:
    from rich.console import Console


class Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def emit(self, document: dict[str, Any], render: Callable[[Console], None]) -> None:
        """Print the result. A reader that closed the pipe (``| head -1``) raises ``BrokenPipeError``
        here, inside the command, where ``engine.cli.main`` ends it quietly: flushing now, not at
        the interpreter's exit, and Rich's own handling (a silent exit 1) replaced."""
        target = streams()
        if self.as_json:
            target.stdout.write(json.dumps(document, default=str) + "\n")
            target.stdout.flush()
            return
        render(target.console())

    def error(self, message: str) -> None:
        """One line on stderr: ``{"error": ...}`` with ``--json``, ``error: ...`` otherwise."""
        message = " ".join(message.split())
        line = json.dumps({"error": message}) if self.as_json else f"error: {message}"
        streams().stderr.write(line + "\n")
