"""`mlops models ...` as a user runs it: register, promote behind gates, history, rollback, export."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from engine.facade import Engine
from engine.types.training import TrainRequest
from tests.conftest import SAMPLE, hosted, mlops_json, run_mlops


@pytest.fixture
def owned(workspace: Path) -> Iterator[Path]:
    """The workspace with its data and one run, its commands run through an owner (``hosted``)."""
    with Engine.open(workspace) as engine:  # the data and the run (their commands are tested elsewhere)
        engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        small = TrainRequest("churn", "churned", params={"n_estimators": "20"}, run_name="small")
        engine.training.train(small)
    with hosted(workspace):
        yield workspace


@pytest.mark.slow
def test_the_registry_from_the_command_line(owned: Path, tmp_path: Path) -> None:
    workspace, run_id = owned, "small"
    version = mlops_json(workspace, "models", "register", run_id, "--name", "churn")
    assert version["version"] == 1 and version["dataset"] == "churn@v1"

    refused = run_mlops("models", "promote", "churn", "1", "-w", str(workspace))
    assert refused.returncode == 1
    assert "✗ fail" in refused.stdout and "was never validated" in refused.stdout
    assert "Promotion refused: churn@champion unchanged" in refused.stdout
    assert mlops_json(workspace, "models", "show", "churn")["aliases"] == {}

    no_reason = run_mlops("models", "promote", "churn", "1", "--force", "-w", str(workspace))
    assert no_reason.returncode == 2 and "--force needs --reason" in no_reason.stderr
    forced = mlops_json(workspace, "models", "promote", "churn", "1", "--force", "--reason", "first model")
    assert forced["promoted"] and forced["move"]["action"] == "forced promote"
    assert forced["export"]["labels_identical"] and forced["export"]["max_abs_difference"] <= 1e-5
    shown = mlops_json(workspace, "models", "show", "churn")
    assert (
        shown["aliases"] == {"champion": 1}
        and shown["versions"][0]["onnx_sha256"] == forced["export"]["sha256"]
    )

    history = mlops_json(workspace, "models", "history", "churn")
    assert [(m["to_version"], m["reason"]) for m in history["moves"]] == [(1, "first model")]
    rollback = run_mlops("models", "rollback", "churn", "-w", str(workspace))
    assert rollback.returncode == 2 and "has no earlier version to roll back to" in rollback.stderr

    manifest_path = tmp_path / "isvc.yaml"
    mlops_json(
        workspace, "models", "export", "churn@champion", "--format", "kserve", "--output", str(manifest_path)
    )
    manifest = yaml.safe_load(manifest_path.read_text())
    assert manifest["kind"] == "InferenceService"
    assert manifest["spec"]["predictor"]["model"]["modelFormat"]["name"] == "onnx"
    unknown = run_mlops("models", "export", "churn@staging", "-w", str(workspace))
    assert unknown.returncode == 2 and "churn@staging is not set" in unknown.stderr
