"""An experiment name is text, never a path: whatever it holds, a run's model and split are
written under the workspace's artifacts, so nothing later unpickles a file from elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.facade import Engine
from engine.types.training import TrainRequest
from tests.conftest import SAMPLE


@pytest.mark.parametrize("relative", [True, False], ids=["../../x", "/elsewhere/x"])
def test_an_experiment_name_holding_a_path_stays_inside_the_workspace(
    engine: Engine, tmp_path: Path, relative: bool
) -> None:
    elsewhere = tmp_path / "elsewhere"
    name = "../../elsewhere/x" if relative else f"{elsewhere}/x"
    engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
    run = engine.training.train(TrainRequest("churn", "churned", "logistic_regression", experiment=name))
    assert run.experiment == name
    assert not elsewhere.exists() and not (engine.workspace.root.parent / "elsewhere").exists()
    model_files = list(engine.workspace.artifacts_dir.rglob("MLmodel"))
    assert len(model_files) == 1
    assert engine.evaluation.evaluate(run.run_id, log=False).rows > 0


def test_a_plain_experiment_name_keeps_a_readable_folder(engine: Engine) -> None:
    engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
    engine.training.train(TrainRequest("churn", "churned", "logistic_regression", experiment="churn-2"))
    assert list((engine.workspace.artifacts_dir / "churn-2").rglob("MLmodel"))
