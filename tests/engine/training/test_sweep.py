"""Sweeps: trials in worker processes as child runs of one parent, the best one's model logged."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient

from engine.errors import InvalidInput
from engine.facade import Engine
from engine.training import sweep
from engine.training.catalogue import model_spec
from engine.training.trainer import TrainRequest
from tests.conftest import REPO_ROOT

SAMPLE = REPO_ROOT / "sample_data"


def test_a_grid_sweep_in_two_processes(engine: Engine) -> None:
    engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
    base = TrainRequest("churn", "churned", "random_forest", run_name="grid")
    candidates = sweep.candidates_for(base, sweep.parse_grid(["n_estimators=10,20", "max_depth=4,8"]), None)
    assert len(candidates) == 4 and {"n_estimators": 20, "max_depth": 8} in candidates
    result = sweep.run_sweep(engine.training, base, candidates, workers=2)
    assert not result.interrupted and len(result.trials) == 4
    best = result.best
    assert best is not None and best.metrics["f1"] == max(t.metrics["f1"] for t in result.trials)

    store = MlflowClient(tracking_uri=engine.tracking_uri)
    parent = store.get_run(result.parent_run_id)
    assert parent.info.status == "FINISHED" and parent.data.tags["mlops.best_run_id"] == best.run_id
    assert parent.data.metrics["best_f1"] == best.metrics["f1"]
    children = engine.runs.search(filter_text=f"tags.mlflow.parentRunId = '{result.parent_run_id}'")
    assert len(children) == 4
    assert {c.params["max_depth"] for c in children} == {"4", "8"}
    with_model = [
        c for c in children if any(a.path == "model" for a in store.list_artifacts(c.attributes["run_id"]))
    ]
    assert [c.attributes["run_id"] for c in with_model] == [best.run_id]


def test_random_candidates_stay_in_the_search_space_and_repeat_with_the_seed() -> None:
    spec = model_spec("gradient_boosting")
    drawn = sweep.random_candidates(spec, 20, seed=3)
    assert drawn == sweep.random_candidates(spec, 20, seed=3) != sweep.random_candidates(spec, 20, seed=4)
    assert all(0.01 <= p["learning_rate"] <= 0.3 and 2 <= p["max_depth"] <= 6 for p in drawn)
    assert {p["n_estimators"] for p in drawn} <= {100, 150, 300}


@pytest.mark.parametrize(
    ("grid", "trials", "message"),
    [
        (["max_depth"], None, "expected NAME=V1,V2"),
        (["depth=1,2"], None, "has no parameter 'depth'"),
        (["max_depth=a,b"], None, "expected an integer"),
        (["max_depth=3"], 5, "either --grid"),
        ([], 0, "expected at least 1"),
    ],
)
def test_bad_sweeps(grid: list[str], trials: int | None, message: str) -> None:
    base = TrainRequest("churn", "churned", "random_forest")
    with pytest.raises(InvalidInput, match=message):
        sweep.candidates_for(base, sweep.parse_grid(grid), trials)
