"""Training runs on a real workspace and a real MLflow store: what is logged, lineage, gates."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from engine.errors import InvalidInput
from engine.facade import Engine
from engine.types.training import TrainRequest
from tests.conftest import REPO_ROOT

SAMPLE = REPO_ROOT / "sample_data"
FAST_FOREST = {"n_estimators": "30"}


def test_a_run_logs_everything_needed_to_reproduce_it(engine: Engine) -> None:
    version = engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn").version
    stages: list[str] = []
    result = engine.training.train(
        TrainRequest(dataset="churn", target="churned", params=FAST_FOREST, run_name="first"),
        progress=lambda stage, fraction: stages.append(stage),
    )
    assert result.metrics["f1"] > 0.75 and set(result.metrics) == {
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "pr_auc",
        "log_loss",
    }
    assert "customer_id" not in result.features and "event_timestamp" not in result.features
    assert stages[-1] == "run first finished"

    store = MlflowClient(tracking_uri=engine.tracking_uri)
    run = store.get_run(result.run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "first"
    assert run.data.params["n_estimators"] == "30" and run.data.params["max_depth"] == "10"
    assert run.data.metrics["f1"] == pytest.approx(result.metrics["f1"])
    tags = run.data.tags
    assert (tags["mlops.dataset"], tags["mlops.dataset_version"]) == ("churn", "1")
    assert tags["mlops.content_hash"] == version.content_hash
    assert json.loads(tags["mlops.features"]) == result.features
    assert tags["mlops.seed"] == "42" and "scikit-learn" in json.loads(tags["mlops.packages"])
    assert run.inputs.dataset_inputs[0].dataset.name == "churn@v1"
    assert run.inputs.dataset_inputs[0].dataset.digest == version.content_hash[:32]
    artifacts = {item.path for item in store.list_artifacts(result.run_id)}
    assert {"model", "confusion_matrix.png", "feature_importance.png", "split.csv"} <= artifacts
    split = pd.read_csv(store.download_artifacts(result.run_id, "split.csv"))
    assert split.split.value_counts().to_dict() == {"train": 16_000, "test": 4_000}
    assert split.row_id.nunique() == 20_000
    assert engine.status().counts.runs == 1
    with engine._db.cursor() as cursor:
        lineage = cursor.execute("SELECT name, version, run_id, role FROM dataset_lineage").fetchall()
    assert lineage == [("churn", 1, result.run_id, "training")]


def test_the_logged_model_loads_and_predicts_like_the_run(engine: Engine) -> None:
    import mlflow.sklearn

    engine.datasets.ingest(SAMPLE / "churn_week_1.csv", "weekly")
    engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
    result = engine.training.train(
        TrainRequest(dataset="churn", target="churned", model="logistic_regression")
    )
    local_copy = MlflowClient(tracking_uri=engine.tracking_uri).download_artifacts(result.run_id, "model")
    model = mlflow.sklearn.load_model(local_copy)
    frame = pd.read_csv(SAMPLE / "churn_week_1.csv")
    probabilities = model.predict_proba(frame[result.features])
    assert probabilities.shape == (5_000, 2)


def test_a_quarantined_version_is_refused_with_its_failures(engine: Engine) -> None:
    engine.suites.add(SAMPLE / "churn_suite.json")
    engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
    engine.quality.require("churn", "churn_suite")
    frame = pd.read_csv(SAMPLE / "churn_reference.csv")
    frame.loc[:99, "customer_id"] = None
    path = Path(engine.workspace.root) / "faulty.csv"
    frame.to_csv(path, index=False)
    assert engine.datasets.ingest(path, "churn").version.status == "quarantined"
    with pytest.raises(
        InvalidInput, match=r"churn@v2 is quarantined .*to_not_be_null on customer_id \(100 unexpected\)"
    ):
        engine.training.train(TrainRequest(dataset="churn@v2", target="churned"))
    assert engine.status().counts.runs == 0


@pytest.mark.parametrize(
    ("request_fields", "message"),
    [
        ({"target": "churn"}, "--target 'churn' is not a column of churn@v1"),
        ({"model": "xgboost"}, "--model 'xgboost' is not in the catalogue"),
        ({"params": {"depth": "3"}}, "random_forest has no parameter 'depth'"),
        ({"params": {"max_depth": "deep"}}, "--param max_depth=deep: expected an integer"),
        ({"features": ["age", "shoe_size"]}, "'shoe_size' is not a column of churn@v1"),
        ({"features": ["age", "churned"]}, "the target 'churned' cannot also be a feature"),
        ({"test_size": 1.5}, "--test-size 1.5: expected a fraction"),
        ({"dataset": "nope"}, "no dataset named 'nope'"),
    ],
)
def test_bad_requests_are_refused_before_any_run(
    engine: Engine, request_fields: dict[str, object], message: str
) -> None:
    engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
    fields: dict[str, object] = {"dataset": "churn", "target": "churned", **request_fields}
    with pytest.raises(InvalidInput, match=message):
        engine.training.train(TrainRequest(**fields))  # type: ignore[arg-type]
    assert engine.status().counts.runs == 0


def test_training_on_point_in_time_features(engine: Engine, tmp_path: Path) -> None:
    engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
    labels = engine.datasets.query(
        'SELECT customer_id, event_timestamp, churned FROM "churn@v1"', limit=20_000
    )
    pd.DataFrame(labels.rows, columns=labels.columns).to_parquet(tmp_path / "targets.parquet")
    engine.datasets.ingest(tmp_path / "targets.parquet", "targets")
    engine.features.apply(SAMPLE / "features.toml")
    result = engine.training.train(
        TrainRequest(
            dataset="targets",
            target="churned",
            model="hist_gradient_boosting",
            feature_views=[
                "customer_orders:total_orders",
                "customer_orders:days_since_last_order",
                "customer_support:support_tickets",
                "customer_profile:age",
            ],
        )
    )
    assert result.features == ["total_orders", "days_since_last_order", "support_tickets", "age"]
    assert result.metrics["roc_auc"] > 0.8


def test_reproduce_matches_exactly_and_reports_a_run_that_cannot(engine: Engine) -> None:
    engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
    seeded = engine.training.train(TrainRequest(dataset="churn", target="churned", params=FAST_FOREST))
    again = engine.training.reproduce(seeded.run_id)
    assert again.exact and {c.name for c in again.checks} == set(seeded.metrics)
    assert again.run.run_name == f"{seeded.run_name}-reproduced"

    unseeded = engine.training.train(
        TrainRequest(dataset="churn", target="churned", params={**FAST_FOREST, "random_state": "None"})
    )
    drifted = engine.training.reproduce(unseeded.run_name)
    assert not drifted.exact and any(not check.matches for check in drifted.checks)


KILLED_WHILE_LOGGING_THE_MODEL = """
import os, signal, sys
from engine.facade import Engine
from engine.types.training import TrainRequest
with Engine.open(sys.argv[1]) as engine:
    engine.datasets.ingest(sys.argv[2], "churn")
    engine._trainer.log_model = lambda *args: os.kill(os.getpid(), signal.SIGKILL)
    engine.training.train(TrainRequest("churn", "churned", params={"n_estimators": "5"}))
"""


def test_a_run_killed_while_training_is_marked_failed_and_refused_in_one_line(workspace: Path) -> None:
    """SIGKILL after the metrics are logged and before the model: the run must not stay RUNNING
    for ever, and evaluating or registering it says it has no model (not an MLflow traceback)."""
    import signal
    import subprocess
    import sys

    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLED_WHILE_LOGGING_THE_MODEL,
            str(workspace),
            str(SAMPLE / "churn_reference.csv"),
        ],
        capture_output=True,
        timeout=180,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with Engine.open(workspace) as engine:
        (run,) = engine.runs.search()
        assert run.status == "FAILED"
        assert run.tags["mlops.stopped"].startswith("the process running it stopped")
        assert len(engine.events.recent(contains="marked failed")) == 1
        with pytest.raises(InvalidInput, match=r"has no logged model to evaluate") as evaluating:
            engine.evaluation.evaluate(run.run_id)
        assert "\n" not in str(evaluating.value)
        with pytest.raises(InvalidInput, match=r"has no logged model to register"):
            engine.registry.register(run.run_id, "churn")
    with Engine.open(workspace) as engine:  # put right once: the next open finds nothing to mark
        assert len(engine.events.recent(contains="marked failed")) == 1
