"""Where a command's output goes: this process's stdout and stderr, or a client's.

A command run for a client of the workspace's owner (engine/host) runs in one of the owner's
threads, so nothing it prints may touch the owner's own ``sys.stdout``: every CLI output goes
through the ``Streams`` of the current context, which the host sets per command. The client
sends what its terminal is (a TTY or a pipe, its width, its colour variables), so Rich renders
in the owner exactly what it would have rendered in the client.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True)
class Streams:
    stdout: TextIO
    stderr: TextIO
    stdin_tty: bool
    environ: Mapping[str, str] = field(default_factory=dict)  # what Rich reads (engine/host/client.py)
    own: bool = True  # this process's own streams (not a client's)

    def console(self, stderr: bool = False) -> Console:
        """A Rich console on stdout (or stderr) that renders as the caller's terminal would.
        A closed pipe raises ``BrokenPipeError`` (Rich would exit 1 silently)."""
        from rich.console import Console

        class PipeConsole(Console):
            def on_broken_pipe(self) -> None:
                raise BrokenPipeError

        file = self.stderr if stderr else self.stdout
        if self.own:
            return PipeConsole(file=file, highlight=False)
        return PipeConsole(file=file, highlight=False, _environ=dict(self.environ))


def process_streams() -> Streams:
    """This process's own streams: Rich reads this process's environment itself."""
    return Streams(sys.stdout, sys.stderr, sys.stdin.isatty())


current_streams: ContextVar[Streams | None] = ContextVar("current_streams", default=None)


def streams() -> Streams:
    """The streams of the command running in this context."""
    return current_streams.get() or process_streams()
