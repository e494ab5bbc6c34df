"""What a client of the workspace's owner sends (engine/host): a command to run for it, or a
facade call whose progress callback stays on the caller's side."""

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


@dataclass(frozen=True)
class RelayedCallback:
    """Stands in a facade call's arguments for the caller's progress callback, which cannot
    cross the endpoint: the owner passes a function in its place that sends each report back,
    and the caller's side calls the ``index``-th callback it kept with it."""

    index: int
