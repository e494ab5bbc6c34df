"""Finding, creating and describing a workspace: a directory holding ``.mlops/``.

Discovery works like git's: an explicit ``--workspace``, then ``MLOPS_WORKSPACE``, then the
nearest ``.mlops/`` upward from the current directory. This module stays import-light (no
DuckDB, no MLflow) because every CLI command and the console's first paint go through it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from engine.errors import InvalidInput, WorkspaceNotFound
from engine.lock import OwnerLock
from engine.types.workspace import MLOPS_DIR_NAME, Workspace

WORKSPACE_ENV_VAR = "MLOPS_WORKSPACE"
PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600


def find_workspace(
    explicit: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Workspace:
    """Locate the workspace a command should act on, or say how to create one."""
    environ = os.environ if environ is None else environ
    if explicit is not None:
        return _workspace_at(Path(explicit), "--workspace")
    if environ.get(WORKSPACE_ENV_VAR):
        return _workspace_at(Path(environ[WORKSPACE_ENV_VAR]), WORKSPACE_ENV_VAR)
    start = (cwd or Path.cwd()).resolve()
    for directory in (start, *start.parents):
        if (directory / MLOPS_DIR_NAME).is_dir():
            return _usable(directory)
    raise WorkspaceNotFound(
        f"not inside a workspace: no {MLOPS_DIR_NAME}/ in {start} or any parent; "
        f"create one with `mlops init` or name one with --workspace DIR"
    )


def _workspace_at(path: Path, given_by: str) -> Workspace:
    path = path.expanduser().resolve()
    root = path.parent if path.name == MLOPS_DIR_NAME else path
    if not (root / MLOPS_DIR_NAME).is_dir():
        raise WorkspaceNotFound(
            f"{given_by} {path} is not a workspace (no {MLOPS_DIR_NAME}/ there); "
            f"create it with `mlops init {path}`"
        )
    return _usable(root)


def _usable(root: Path) -> Workspace:
    """The workspace at ``root``, if its stores can be opened there.

    Two characters cannot be carried into them, so a path holding either is refused up front,
    before anything is written (measured with DuckDB 2.0.1 and MLflow 3):
    - ``?``: DuckDB reads it in a database path as the start of its options; it opens the file
      but writes its WAL to a path cut at the ``?`` and fails on the first commit;
    - ``%``: MLflow's store URI (``sqlite:///PATH``) is percent-decoded by SQLAlchemy but read
      raw by MLflow, so ``%41`` is ``A`` to one and ``%41`` to the other, encoded or not.
    """
    for character in "?%":
        if character in str(root):
            raise InvalidInput(
                f"workspace path {str(root)!r} holds {character!r}, which the workspace's databases "
                f"cannot be opened under; expected a path without '?' or '%'"
            )
    return Workspace(root)


def create_workspace_files(directory: Path) -> tuple[Workspace, bool]:
    """Lay out ``.mlops/`` in ``directory``; returns the workspace and whether it is new.

    Idempotent like ``git init``: an existing workspace keeps its config and token, and only
    missing pieces are added. The DuckDB catalogue is created by ``Engine.open``, under the
    owner lock, not here.
    """
    directory = directory.expanduser().resolve()
    if directory.exists() and not directory.is_dir():
        raise InvalidInput(f"cannot create a workspace in {directory}: it is a file, not a directory")
    from engine.config import DEFAULT_CONFIG_TOML  # here: a forwarded command never needs it

    workspace = _usable(directory)
    created = not workspace.mlops_dir.is_dir()
    directory.mkdir(parents=True, exist_ok=True)
    workspace.mlops_dir.mkdir(mode=PRIVATE_DIRECTORY, exist_ok=True)
    workspace.artifacts_dir.mkdir(mode=PRIVATE_DIRECTORY, exist_ok=True)
    _write_private(workspace.config_path, DEFAULT_CONFIG_TOML)
    _write_private(workspace.default_token_path, secrets.token_urlsafe(32) + "\n")
    make_private(workspace)
    return workspace, created


def make_private(workspace: Workspace) -> None:
    """Keep ``.mlops/`` to its user: the folder 0700, the files the engine keeps there 0600.

    The workspace holds the data, MLflow's store (with input examples), the serving token and
    the owner lock; anyone who can open the lock file can ``flock`` it and lock the owner out.
    The folder's mode is what keeps other users out of everything inside, including files
    DuckDB, SQLite and MLflow create with the process umask; the file modes are a second
    fence. Run at every claim, so a workspace made before this rule (0755) is tightened.
    """
    _restrict(workspace.mlops_dir, PRIVATE_DIRECTORY)
    for path in (
        workspace.db_path,
        workspace.mlflow_db_path,
        workspace.config_path,
        workspace.default_token_path,
        workspace.mlops_dir / OwnerLock.FILE_NAME,
    ):
        _restrict(path, PRIVATE_FILE)


def _restrict(path: Path, mode: int) -> None:
    try:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except FileNotFoundError:
        return


def replace_private(path: Path, text: str) -> None:
    """Write ``path`` whole, readable by its owner only, atomically: a reader sees the old file
    or the new one, never half (the endpoint, the serving tokens)."""
    partial = path.with_suffix(".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    partial.replace(path)


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` holding ``text``, readable by its owner only; an existing file is kept."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
