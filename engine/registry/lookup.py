"""Reading the registry without MLflow's client when the store is the workspace's own SQLite.

Importing MLflow and opening its store costs seconds (its schema checks run on first use);
a pipeline whose steps are all cached only needs to know whether a model version still exists
and which version an alias points at, which is one SQLite query each. A remote tracking
server is asked through the client.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.tracking_store import open_read_only
from engine.types.registry import VersionRef

# MLflow keeps a deleted version's row with this stage.
DELETED_STAGE = "Deleted_Internal"


class RegistryLookup:
    def __init__(self, tracking_uri: str, local_store: Path | None) -> None:
        self._tracking_uri = tracking_uri
        self._local_store = local_store

    def alias(self, name: str, alias: str) -> VersionRef | None:
        """The version ``name@alias`` points at, or None when the model or the alias is absent."""
        if self._local_store is not None:
            row = self._query(
                "SELECT v.version, v.run_id FROM registered_model_aliases a JOIN model_versions v"
                " ON v.name = a.name AND v.version = a.version AND v.workspace = a.workspace"
                " WHERE a.name = ? AND a.alias = ?",
                [name, alias],
            )
            return VersionRef(name, int(row[0]), str(row[1])) if row else None
        from mlflow.exceptions import MlflowException

        from engine.training.tracking import client

        try:
            found = client(self._tracking_uri).get_model_version_by_alias(name, alias)
        except MlflowException:
            return None
        return VersionRef(name, int(found.version), str(found.run_id))

    def model_exists(self, name: str) -> bool:
        if self._local_store is not None:
            return self._query("SELECT 1 FROM registered_models WHERE name = ?", [name]) is not None
        from mlflow.exceptions import MlflowException

        from engine.training.tracking import client

        try:
            client(self._tracking_uri).get_registered_model(name)
        except MlflowException:
            return False
        return True

    def model_names(self) -> list[str]:
        """Every registered model's name, sorted."""
        if self._local_store is not None:
            return [
                str(row[0]) for row in self._query_all("SELECT name FROM registered_models ORDER BY name", [])
            ]
        from engine.training.tracking import client

        return sorted(model.name for model in client(self._tracking_uri).search_registered_models())

    def version_numbers(self, name: str) -> list[int]:
        """The versions ``name`` has (deleted ones left out), in order."""
        if self._local_store is not None:
            rows = self._query_all(
                "SELECT version FROM model_versions WHERE name = ? AND current_stage <> ? ORDER BY version",
                [name, DELETED_STAGE],
            )
            return [int(row[0]) for row in rows]
        from engine.training.tracking import client

        found = client(self._tracking_uri).search_model_versions(f"name = '{name}'")
        return sorted(int(version.version) for version in found)

    def version_exists(self, name: str, version: int) -> bool:
        if self._local_store is not None:
            row = self._query(
                "SELECT 1 FROM model_versions WHERE name = ? AND version = ? AND current_stage <> ?",
                [name, version, DELETED_STAGE],
            )
            return row is not None
        from mlflow.exceptions import MlflowException

        from engine.training.tracking import client

        try:
            client(self._tracking_uri).get_model_version(name, str(version))
        except MlflowException:
            return False
        return True

    def _query(self, sql: str, parameters: list[object]) -> tuple[Any, ...] | None:
        rows = self._query_all(sql, parameters)
        return rows[0] if rows else None

    def _query_all(self, sql: str, parameters: list[object]) -> list[tuple[Any, ...]]:
        assert self._local_store is not None
        if not self._local_store.exists():
            return []
        connection = open_read_only(self._local_store)
        try:
            return list(connection.execute(sql, parameters).fetchall())
        finally:
            connection.close()
