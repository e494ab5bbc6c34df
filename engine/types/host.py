"""What a client of the workspace's owner sends (engine/host): one command to run for it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommandRequest:
    """A client's argv as typed, where it was typed, and what its terminal is."""

    argv: list[str]
    cwd: str
    pid: int
    stdin_tty: bool
    stdout_tty: bool
    stderr_tty: bool
    environ: dict[str, str]  # the variables Rich reads (engine/host/client.py TERMINAL_VARIABLES)
