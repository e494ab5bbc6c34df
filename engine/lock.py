"""The owner lock: one process owns a workspace at a time (DESIGN rule 2).

DuckDB lets one process open a database file for writing, and a second opener would get a
DuckDB traceback. Instead, the owner takes an exclusive ``flock`` on ``.mlops/owner.lock``
and writes who it is into the file. The kernel drops an ``flock`` when its process dies,
however it dies (``kill -9`` included), so a lock left behind by a dead owner is simply
free to take: the old owner's record is kept as ``previous_owner`` for the log.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from engine.errors import WorkspaceLocked
from engine.types.workspace import OwnerInfo


class OwnerLock:
    """An exclusive, process-wide lock on one workspace directory."""

    FILE_NAME = "owner.lock"

    def __init__(self, mlops_dir: Path) -> None:
        self.path = mlops_dir / self.FILE_NAME
        self.owner: OwnerInfo | None = None
        self.previous_owner: OwnerInfo | None = None
        self._fd: int | None = None

    def acquire(self, command: str) -> OwnerInfo:
        """Take the lock or raise ``WorkspaceLocked`` naming the live owner."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # others cannot open it, so cannot flock it
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_owner(fd)
            os.close(fd)
            who = holder.describe() if holder else "another process (still starting)"
            raise WorkspaceLocked(f"workspace {self.path.parent} is in use by {who}") from None
        self.previous_owner = _read_owner(fd)
        self.owner = OwnerInfo(
            pid=os.getpid(),
            command=command,
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            host=socket.gethostname(),
        )
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(asdict(self.owner)).encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return self.owner

    def release(self) -> None:
        """Free the lock; the record is cleared so nobody mistakes it for a live owner."""
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None


def read_owner(mlops_dir: Path) -> OwnerInfo | None:
    """The live owner of a workspace, or None when nobody holds it."""
    path = mlops_dir / OwnerLock.FILE_NAME
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_owner(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_owner(fd: int) -> OwnerInfo | None:
    raw = os.pread(fd, 4096, 0)
    if not raw:
        return None
    try:
        return OwnerInfo(**json.loads(raw))
    except (ValueError, TypeError):
        return None
