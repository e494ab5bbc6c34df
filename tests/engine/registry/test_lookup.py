"""Registry reads straight from the workspace's SQLite store agree with MLflow's client."""

from __future__ import annotations

from mlflow.tracking import MlflowClient

from engine.facade import Engine
from engine.registry.lookup import RegistryLookup
from engine.types.registry import VersionRef


def test_aliases_and_deleted_versions_read_as_mlflow_wrote_them(engine: Engine) -> None:
    store = MlflowClient(tracking_uri=engine.tracking_uri)
    local = RegistryLookup(engine.tracking_uri, engine.workspace.mlflow_db_path)
    assert local.alias("churn", "champion") is None and not local.version_exists("churn", 1)

    store.create_registered_model("churn")
    first = store.create_model_version("churn", source="/tmp/model-a", run_id="a" * 32)
    store.create_model_version("churn", source="/tmp/model-b", run_id="b" * 32)
    store.set_registered_model_alias("churn", "champion", first.version)
    assert local.alias("churn", "champion") == VersionRef("churn", 1, "a" * 32)
    assert local.alias("churn", "challenger") is None
    assert local.version_exists("churn", 2)

    store.delete_model_version("churn", "2")
    assert not local.version_exists("churn", 2) and local.version_exists("churn", 1)

    through_client = RegistryLookup(engine.tracking_uri, None)  # as with a remote server
    assert through_client.alias("churn", "champion") == local.alias("churn", "champion")
    assert [through_client.version_exists("churn", v) for v in (1, 2)] == [True, False]
