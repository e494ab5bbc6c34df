"""Where a workspace's owner listens, and how a client learns it.

The endpoint is a unix socket, reachable only by the workspace's user: it lives in ``.mlops/``
(0700), is made 0600, and a connection must also prove it holds the workspace token
(``multiprocessing.connection``'s HMAC challenge) and come from the same uid. The owner
records it in ``.mlops/host.json`` with its pid and protocol version. A socket path longer
than the OS allows (about 107 bytes on Linux, 103 on macOS: deep workspace paths) is put in a
private folder of the temporary directory instead, ``mlops-<uid>/`` (0700, checked to be the
user's own), named by a digest of the workspace path.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from engine.types.workspace import Workspace
from engine.workspace import replace_private

PROTOCOL = 2
"""Bumped whenever a message changes shape: a client and an owner of different protocols refuse
each other in one line instead of misreading each other."""
ENDPOINT_FILE = "host.json"
SOCKET_FILE = "host.sock"
MAX_SOCKET_PATH = 100  # bytes; below Linux's 108 and macOS's 104, NUL included


@dataclass(frozen=True)
class Endpoint:
    address: str
    pid: int
    protocol: int
    version: str


def socket_address(workspace: Workspace) -> str:
    """The socket's path: in ``.mlops/`` when it fits, else in the user's private temp folder."""
    inside = workspace.mlops_dir / SOCKET_FILE
    if len(os.fsencode(str(inside))) <= MAX_SOCKET_PATH:
        return str(inside)
    folder = Path(tempfile.gettempdir()) / f"mlops-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
        raise PermissionError(f"{folder} is not a private folder of this user; cannot put the endpoint there")
    digest = hashlib.sha256(str(workspace.mlops_dir).encode()).hexdigest()[:24]
    return str(folder / f"{digest}.sock")


def write_endpoint(workspace: Workspace, endpoint: Endpoint) -> None:
    """Publish the endpoint atomically (a reader sees the old file or the new one, never half)."""
    replace_private(workspace.mlops_dir / ENDPOINT_FILE, json.dumps(asdict(endpoint)))


def read_endpoint(workspace: Workspace) -> Endpoint | None:
    """The published endpoint, or None when there is none (or it cannot be read)."""
    try:
        raw = json.loads((workspace.mlops_dir / ENDPOINT_FILE).read_text(encoding="utf-8"))
        return Endpoint(str(raw["address"]), int(raw["pid"]), int(raw["protocol"]), str(raw["version"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remove_endpoint(workspace: Workspace, endpoint: Endpoint) -> None:
    """Unpublish ``endpoint`` (only if it is still the published one) and remove its socket."""
    if read_endpoint(workspace) == endpoint:
        (workspace.mlops_dir / ENDPOINT_FILE).unlink(missing_ok=True)
    Path(endpoint.address).unlink(missing_ok=True)


def workspace_key(workspace: Workspace) -> bytes:
    """The secret both sides prove they hold: the workspace token (0600, made by ``mlops init``)."""
    return workspace.default_token_path.read_bytes().strip()
