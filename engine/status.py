"""What ``mlops status`` and the console header show: where, who, and how much.

Counts of things later features own (datasets, deployments, alerts) are read from their
tables when those exist, so the status works on every schema version. Runs and registered
models live in MLflow's store; for the workspace's own SQLite store they are counted with
``sqlite3`` directly, which costs milliseconds where importing MLflow costs ~2 s.
"""

from __future__ import annotations

from pathlib import Path

from engine.db import Database
from engine.tracking_store import open_read_only

# table that must exist -> the query counting it; each feature's migration creates its table.
WORKSPACE_COUNTS: dict[str, tuple[str, str]] = {
    "datasets": ("datasets", "SELECT count(*) FROM datasets"),
    "deployments": ("deployments", "SELECT count(*) FROM deployments"),
    "open_alerts": ("alerts", "SELECT count(*) FROM alerts WHERE status = 'open'"),
}
MLFLOW_COUNTS: dict[str, tuple[str, str]] = {
    "runs": ("runs", "SELECT count(*) FROM runs WHERE lifecycle_stage = 'active'"),
    "models": ("registered_models", "SELECT count(*) FROM registered_models"),
}


def count_workspace(db: Database) -> dict[str, int]:
    with db.cursor() as cursor:
        tables = {row[0] for row in cursor.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        return {
            name: cursor.execute(query).fetchone()[0] if table in tables else 0  # type: ignore[index]
            for name, (table, query) in WORKSPACE_COUNTS.items()
        }


def count_mlflow_store(mlflow_db: Path | None) -> dict[str, int | None]:
    """Runs and models in a local MLflow SQLite store; None for each when it is remote."""
    if mlflow_db is None:
        return dict.fromkeys(MLFLOW_COUNTS)
    if not mlflow_db.exists():
        return dict.fromkeys(MLFLOW_COUNTS, 0)
    connection = open_read_only(mlflow_db)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {
            name: connection.execute(query).fetchone()[0] if table in tables else 0
            for name, (table, query) in MLFLOW_COUNTS.items()
        }
    finally:
        connection.close()


def champions(mlflow_db: Path | None) -> dict[str, int] | None:
    """Each registered model's ``@champion`` version, read from the local MLflow store; None
    when the store is remote (the console's header leaves it out)."""
    if mlflow_db is None:
        return None
    if not mlflow_db.exists():
        return {}
    connection = open_read_only(mlflow_db)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "registered_model_aliases" not in tables:
            return {}
        rows = connection.execute(
            "SELECT name, version FROM registered_model_aliases WHERE alias = 'champion' ORDER BY name"
        ).fetchall()
        return {str(name): int(version) for name, version in rows}
    finally:
        connection.close()


def recent_requests_per_second(db: Database, seconds: int = 10) -> float:
    """Requests answered over the last ``seconds`` (the prediction log's), per second."""
    with db.cursor() as cursor:
        tables = {row[0] for row in cursor.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "prediction_log" not in tables:
            return 0.0
        row = cursor.execute(
            "SELECT count(DISTINCT request_id) FROM prediction_log"
            " WHERE logged_at >= now() - to_seconds(CAST(? AS BIGINT))",
            [seconds],
        ).fetchone()
    return (int(row[0]) if row else 0) / seconds
