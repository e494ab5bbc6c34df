"""The client's side: run this command through the workspace's owner, if one is hosting.

Kept light on purpose (no DuckDB, pandas, MLflow, not even the facade): forwarding a command
costs an interpreter start, this module and a round trip, so a read against a warm owner
answers faster than a command that opens the workspace itself.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from multiprocessing.connection import Client, Connection
from pathlib import Path
from typing import Any, Literal

from engine.errors import WorkspaceNotFound
from engine.host.endpoint import PROTOCOL, Endpoint, read_endpoint, remove_endpoint, workspace_key
from engine.lock import read_owner
from engine.types.workspace import Workspace
from engine.version import __version__
from engine.workspace import find_workspace

# The environment variables Rich reads to choose colours and width: the owner renders with these.
TERMINAL_VARIABLES = ("TERM", "COLORTERM", "NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE")


def forward(workspace_option: str | None, argv: Sequence[str]) -> int | None:
    """Run ``argv`` in the workspace's owner and return its exit code, having written its
    output here; None when no owner is hosting (the caller then runs the command itself)."""
    try:
        workspace = find_workspace(workspace_option)
    except WorkspaceNotFound:
        return None
    endpoint = read_endpoint(workspace)
    if endpoint is None:
        return None
    mismatch = protocol_mismatch(workspace, endpoint)
    if mismatch is not None:
        sys.stderr.write(f"error: {mismatch}\n")
        return 2
    connection = _connect(workspace, endpoint)
    if connection is None:
        return None
    with connection:
        connection.send_bytes(json.dumps(_request(argv)).encode())
        return _relay(connection, endpoint)


def protocol_mismatch(workspace: Workspace, endpoint: Endpoint) -> str | None:
    """Why this process cannot talk to the owner behind ``endpoint`` (another version of the
    messages), in one line; None when it can."""
    if endpoint.protocol == PROTOCOL:
        return None
    return (
        f"workspace {workspace.mlops_dir} is owned by pid {endpoint.pid} running "
        f"mlops-console {endpoint.version} (protocol {endpoint.protocol}); this mlops is "
        f"{__version__} (protocol {PROTOCOL}): use the same version, or stop the owner"
    )


STARTING_SECONDS = 15.0
"""How long after taking the lock an owner may still be opening the workspace (DuckDB, the
migrations) before it publishes its endpoint; one that owns it longer without an endpoint does
not host (an older version, or a program using the engine as a library)."""


def wait_for_owner(workspace_option: str | None) -> Literal["hosting", "free", "busy"]:
    """After finding the workspace owned: wait while its owner is still starting. ``hosting``:
    it now hosts (forward the command there); ``free``: it has gone (open the workspace again);
    ``busy``: it owns the workspace without hosting it (the command stops with exit 3).

    Commands started together race for the lock; the losers find the winner still opening the
    workspace, not yet hosting (or already gone), and would otherwise fail for nothing."""
    try:
        workspace = find_workspace(workspace_option)
    except WorkspaceNotFound:
        return "free"
    while True:
        if read_endpoint(workspace) is not None:
            return "hosting"
        owner = read_owner(workspace.mlops_dir)
        if owner is None:
            return "free"
        try:
            started = datetime.fromisoformat(owner.started_at)
        except ValueError:
            return "busy"
        if (datetime.now(UTC) - started).total_seconds() > STARTING_SECONDS:
            return "busy"
        time.sleep(0.05)


def _connect(workspace: Workspace, endpoint: Endpoint) -> Connection | None:
    """A connection to the owner; None, having cleared the stale endpoint, when its owner is dead."""
    try:
        return Client(endpoint.address, family="AF_UNIX", authkey=workspace_key(workspace))
    except (OSError, EOFError):  # nobody listening, or an owner closing as we connected
        if read_owner(workspace.mlops_dir) is None:  # killed (-9): nobody holds the lock
            remove_endpoint(workspace, endpoint)
        return None


def _request(argv: Sequence[str]) -> dict[str, Any]:
    environ = {name: os.environ[name] for name in TERMINAL_VARIABLES if name in os.environ}
    if sys.stdout.isatty() and "COLUMNS" not in environ:
        environ["COLUMNS"] = str(shutil.get_terminal_size().columns)
    return {
        "protocol": PROTOCOL,
        "version": __version__,
        "argv": list(argv),
        "cwd": str(Path.cwd()),
        "pid": os.getpid(),
        "stdin_tty": sys.stdin.isatty(),
        "stdout_tty": sys.stdout.isatty(),
        "stderr_tty": sys.stderr.isatty(),
        "environ": environ,
    }


def _relay(connection: Connection, endpoint: Endpoint) -> int:
    """Write the command's output as it comes; Ctrl-C asks the owner to cancel it (a second
    Ctrl-C stops waiting)."""
    cancelled = False
    while True:
        try:
            message = json.loads(connection.recv_bytes())
        except KeyboardInterrupt:
            if cancelled:
                sys.stderr.write("error: interrupted\n")
                return 130
            cancelled = True
            connection.send_bytes(json.dumps({"cancel": True}).encode())
            continue
        except EOFError:
            sys.stderr.write(
                f"error: the workspace's owner (pid {endpoint.pid}) stopped before the command finished\n"
            )
            return 1
        if "exit" in message:
            return int(message["exit"])
        try:
            for name, stream in (("stdout", sys.stdout), ("stderr", sys.stderr)):
                if name in message:
                    stream.write(message[name])
                    stream.flush()
        except BrokenPipeError:  # `| head -1`: quiet, as engine.cli ends it; the owner cancels
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141
