"""The workspace's own MLflow store: ``.mlops/mlflow.db`` with artifacts in ``.mlops/artifacts``.

Creating it runs MLflow's schema migrations, which is slow (~3 s import + ~3 s migrations),
so it happens once, at ``mlops init``, and MLflow is imported here only.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from engine.types.workspace import Workspace


def create_local_store(workspace: Workspace) -> None:
    """Create MLflow's tables and its Default experiment rooted in the workspace's artifacts."""
    if workspace.mlflow_db_path.exists() and workspace.mlflow_db_path.stat().st_size > 0:
        return
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(  # type: ignore[no-untyped-call]
        workspace.local_tracking_uri, workspace.artifacts_dir.as_uri()
    )
    store.engine.dispose()


def open_read_only(database: Path) -> sqlite3.Connection:
    """A read-only connection to a SQLite file, whatever its path holds.

    Read-only needs SQLite's URI form, where ``?`` and ``#`` are syntax: pasted as they are, a
    workspace under ``a#b/`` opens a stray file ``a`` instead (and finds "no such table").
    ``Path.as_uri`` percent-encodes the path.
    """
    return sqlite3.connect(f"{database.absolute().as_uri()}?mode=ro", uri=True)
