"""Sweeps: trials in worker processes as child runs of one parent, the best one's model logged."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient

from engine.errors import InvalidInput
from engine.facade import Engine
from engine.training import sweep
from engine.training.catalogue import model_spec
from engine.types.training import SweepRequest, TrainRequest, best_index, parse_grid
from tests.conftest import REPO_ROOT

SAMPLE = REPO_ROOT / "sample_data"


def test_a_grid_sweep_in_two_processes_ranks_a_loss_lowest_first(engine: Engine) -> None:
    engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
    base = TrainRequest("churn", "churned", "random_forest", run_name="grid")
    grid = parse_grid(["n_estimators=10,20", "max_depth=4,8"])
    request = SweepRequest(base, grid, workers=2, metric="log_loss")
    candidates = sweep.candidates_for(request)
    assert len(candidates) == 4 and {"n_estimators": 20, "max_depth": 8} in candidates
    result = engine.training.sweep(request)
    assert not result.interrupted and len(result.trials) == 4
    assert result.searched == ["n_estimators", "max_depth"]
    losses = [t.metrics["log_loss"] for t in result.trials]
    assert len(set(losses)) == 4
    best = result.best
    assert best is not None and best.metrics["log_loss"] == min(losses)  # a loss: lower is better
    assert [t.metrics["log_loss"] for t in result.ranked] == sorted(losses)

    store = MlflowClient(tracking_uri=engine.tracking_uri)
    parent = store.get_run(result.parent_run_id)
    assert parent.info.status == "FINISHED" and parent.data.tags["mlops.best_run_id"] == best.run_id
    assert parent.data.metrics["best_log_loss"] == best.metrics["log_loss"]
    children = engine.runs.search(filter_text=f"tags.mlflow.parentRunId = '{result.parent_run_id}'")
    assert len(children) == 4
    assert {c.params["max_depth"] for c in children} == {"4", "8"}
    with_model = [c for c in children if any(a.path == "model" for a in store.list_artifacts(c.run_id))]
    assert [c.run_id for c in with_model] == [best.run_id]


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
        ([], None, "the sweep has no trials"),
        ([], 0, "the sweep has no trials"),
        ([], -2, "expected at least 1"),
    ],
)
def test_bad_sweeps(grid: list[str], trials: int | None, message: str) -> None:
    base = TrainRequest("churn", "churned", "random_forest")
    with pytest.raises(InvalidInput, match=message):
        sweep.candidates_for(SweepRequest(base, parse_grid(grid), trials))


@pytest.mark.parametrize(
    ("metric", "workers", "message"),
    [
        ("loss", 2, "--metric 'loss': expected one of accuracy, "),
        ("f1", 0, "--workers 0: expected at least 1"),
    ],
)
def test_a_sweep_refuses_an_unknown_metric_or_no_workers_before_training(
    engine: Engine, metric: str, workers: int, message: str
) -> None:
    request = SweepRequest(
        TrainRequest("churn", "churned"), {"max_depth": ["3"]}, workers=workers, metric=metric
    )
    with pytest.raises(InvalidInput, match=message):
        engine.training.sweep(request)
    assert engine.runs.search() == []


def test_the_best_of_a_metric_follows_its_direction() -> None:
    assert best_index("f1", [0.5, None, 0.9, 0.9]) == 2
    assert best_index("log_loss", [0.5, 0.2, float("nan"), 0.2]) == 1
    assert best_index("eval.brier", [0.3, 0.1]) == 1 and best_index("roc_auc", [None]) is None
