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

from engine.config import DEFAULT_CONFIG_TOML
from engine.errors import InvalidInput, WorkspaceNotFound
from engine.types.workspace import MLOPS_DIR_NAME, Workspace

WORKSPACE_ENV_VAR = "MLOPS_WORKSPACE"


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
            return Workspace(directory)
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
    workspace = Workspace(directory)
    created = not workspace.mlops_dir.is_dir()
    workspace.artifacts_dir.mkdir(parents=True, exist_ok=True)
    if not workspace.config_path.exists():
        workspace.config_path.write_text(DEFAULT_CONFIG_TOML, encoding="utf-8")
    _write_token(workspace.default_token_path)
    return workspace, created


def _write_token(path: Path) -> None:
    """Create the serving bearer token, readable by its owner only (mode 0600)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")
