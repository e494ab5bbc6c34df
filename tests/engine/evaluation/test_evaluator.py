"""`engine.evaluation` on a real workspace, a real MLflow store and the sample data."""

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


@pytest.fixture
def trained(engine: Engine) -> tuple[Engine, str]:
    engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
    result = engine.training.train(TrainRequest("churn", "churned", params={"n_estimators": "30"}))
    return engine, result.run_id


def test_the_holdout_evaluation_agrees_with_training_and_is_logged(trained: tuple[Engine, str]) -> None:
    engine, run_id = trained
    evaluation = engine.evaluation.evaluate(run_id)
    store = MlflowClient(tracking_uri=engine.tracking_uri)
    logged = store.get_run(run_id).data.metrics
    assert (
        evaluation.scope == "held-out rows" and evaluation.rows == 4000 and evaluation.dataset == "churn@v1"
    )
    for name in ("accuracy", "f1", "roc_auc", "log_loss"):  # the same rows, the same model
        assert evaluation.scores.metrics[name] == pytest.approx(logged[name])
    assert logged["eval.brier"] == pytest.approx(evaluation.scores.metrics["brier"])
    assert "eval.fairness.age_group.demographic_parity_ratio" in logged
    artifact = json.loads(Path(store.download_artifacts(run_id, "evaluations/holdout.json")).read_text())
    assert artifact["rows"] == 4000 and artifact["fairness"][0]["attribute"] == "gender"
    attributes = [item.attribute for item in evaluation.fairness]
    assert attributes == ["gender", "age_group", "region"]
    age = evaluation.fairness[1]
    assert age.demographic_parity_ratio is not None and age.demographic_parity_ratio < 0.8  # the planted bias
    assert any(text.startswith("age_group: demographic parity ratio") for text in evaluation.violations)
    figures = evaluation.gate_metrics()
    assert figures["fairness.age_group.demographic_parity_ratio"] == age.demographic_parity_ratio
    assert figures["business.cost_at_cheapest"] <= figures["business.cost_at_0_5"]
    with engine._db.cursor() as cursor:
        stored = cursor.execute("SELECT run_id, dataset, rows FROM evaluations").fetchall()
    assert stored == [(run_id, "churn@v1", 4000)]


def test_a_production_week_with_late_labels_uses_the_same_path(trained: tuple[Engine, str]) -> None:
    engine, run_id = trained
    engine.datasets.ingest(SAMPLE / "churn_week_4.csv", "week4")
    engine.datasets.ingest(SAMPLE / "churn_labels.csv", "labels")
    labelled = engine.datasets.ingest_query(
        "SELECT w.*, l.churned FROM week4 w LEFT JOIN labels l USING (customer_id, event_timestamp)",
        "week4_labelled",
    ).version
    evaluation = engine.evaluation.evaluate(run_id, labelled.ref, log=False)
    assert evaluation.scope == "all labelled rows" and evaluation.unlabelled_rows > 0
    assert evaluation.rows + evaluation.unlabelled_rows == labelled.row_count
    holdout = engine.evaluation.evaluate(run_id, log=False)
    assert evaluation.scores.metrics["f1"] < holdout.scores.metrics["f1"] - 0.1  # concept drift in week 4
    assert (
        "eval.week4_labelled_v1.f1"
        not in MlflowClient(tracking_uri=engine.tracking_uri).get_run(run_id).data.metrics
    )


def test_bad_references_and_datasets_are_clear_errors(trained: tuple[Engine, str]) -> None:
    engine, run_id = trained
    with pytest.raises(InvalidInput, match="no run matches 'nope'"):
        engine.evaluation.evaluate("nope")
    with pytest.raises(InvalidInput, match="no model version behind 'churn@champion'"):
        engine.evaluation.evaluate("churn@champion")
    engine.datasets.ingest(SAMPLE / "churn_week_1.csv", "week1")
    with pytest.raises(InvalidInput, match=r"week1@v1 has no column 'churned' \(the target\)"):
        engine.evaluation.evaluate(run_id, "week1")
    engine.datasets.ingest_query("SELECT customer_id, churned FROM churn", "thin")
    with pytest.raises(InvalidInput, match=r"thin@v1 lacks .*age.*which the model was trained on"):
        engine.evaluation.evaluate(run_id, "thin")
    with engine._db.cursor() as cursor:
        assert cursor.execute("SELECT count(*) FROM evaluations").fetchone() == (0,)

    store = MlflowClient(tracking_uri=engine.tracking_uri)
    store.create_registered_model("churn")
    store.create_model_version("churn", source="unused", run_id=run_id)
    store.set_registered_model_alias("churn", "champion", "1")
    assert engine.evaluation.evaluate("churn@champion", log=False).subject == "churn@champion (v1)"


def test_stored_evaluations_read_back_whole(trained: tuple[Engine, str]) -> None:
    engine, run_id = trained
    made = engine.evaluation.evaluate(run_id, log=False)
    [stored] = engine.evaluation.recent()
    assert stored.to_dict() == made.to_dict()
    assert engine.evaluation.get(made.id).gate_metrics() == made.gate_metrics()
    assert engine.evaluation.recent(contains="nothing like it") == []
    with pytest.raises(InvalidInput, match="no evaluation 99"):
        engine.evaluation.get(99)


def test_a_string_labelled_model_is_evaluated_on_the_class_its_run_chose(
    engine: Engine, tmp_path: Path
) -> None:
    """Labels active/churned with "active" as the positive class, which is not scikit-learn's
    second column: the metrics, the business costs and the fairness rates all follow it."""
    frame = pd.read_csv(SAMPLE / "churn_reference.csv").head(3000)
    frame = frame.assign(churned=frame.churned.map({0: "active", 1: "churned"}))
    frame.to_csv(tmp_path / "accounts.csv", index=False)
    engine.datasets.ingest(tmp_path / "accounts.csv", "accounts")
    run = engine.training.train(
        TrainRequest("accounts", "churned", params={"n_estimators": "30"}, positive_class="active")
    )
    evaluation = engine.evaluation.evaluate(run.run_id)
    for name in ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss"):
        assert evaluation.scores.metrics[name] == pytest.approx(run.metrics[name])
    split = pd.read_csv(
        MlflowClient(tracking_uri=engine.tracking_uri).download_artifacts(run.run_id, "split.csv")
    )
    held_out = frame.iloc[split[split.split == "test"].row_id.to_numpy()]
    actives = int((held_out.churned == "active").sum())
    confusion = evaluation.scores.confusion
    assert confusion.tp + confusion.fn == actives
    business = evaluation.scores.business
    assert business.cost_acting_on_nobody == actives * business.cost_false_negative
    gender = evaluation.fairness[0]
    predicted_active = sum(rate.positive_rate * rate.rows for rate in gender.groups)
    assert predicted_active == pytest.approx(confusion.tp + confusion.fp)

    relabelled = frame.assign(churned=frame.churned.str.upper())
    relabelled.to_csv(tmp_path / "shouting.csv", index=False)
    engine.datasets.ingest(tmp_path / "shouting.csv", "shouting")
    with pytest.raises(
        InvalidInput,
        match=r"^shouting@v1: 'churned' holds 'ACTIVE', a label run \S+ never learned; "
        r"expected 'active' or 'churned'$",
    ):
        engine.evaluation.evaluate(run.run_id, "shouting", log=False)
