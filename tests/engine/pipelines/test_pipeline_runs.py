"""Pipelines on a real workspace and a real MLflow store: caching, gates, failures, records."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from engine.facade import Engine
from engine.types.pipelines import PipelineRunRecord
from tests.conftest import LOOSE_GATES, REPO_ROOT

SAMPLE = REPO_ROOT / "sample_data"
PIPELINE = """
name = "churn"
experiment = "pipeline-tests"

[steps.load]
{load}

[steps.validate]
suite = "churn_suite"

[steps.train]
target = "churned"
model = "random_forest"
params = {{ n_estimators = {trees}, max_depth = 8 }}
{train_extra}

[steps.evaluate]

[steps.gate]
require = [{require}]
{gate_extra}

[steps.register]
model_name = "churn"
"""


@pytest.fixture
def churn(engine: Engine) -> Engine:
    engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
    engine.suites.add(SAMPLE / "churn_suite.json", "churn_suite")
    return engine


def pipeline_file(
    folder: Path,
    load: str = 'dataset = "churn"',
    trees: int = 20,
    require: str = '"f1 >= 0.7"',
    train_extra: str = "",
    gate_extra: str = "promotion_gates = false",
) -> Path:
    path = folder / "churn_pipeline.toml"
    path.write_text(
        PIPELINE.format(
            load=load, trees=trees, require=require, train_extra=train_extra, gate_extra=gate_extra
        )
    )
    return path


def statuses(record: PipelineRunRecord) -> dict[str, str]:
    return {step.name: step.status for step in record.steps}


def step_output(record: PipelineRunRecord, name: str) -> dict[str, object]:
    return next(step.output for step in record.steps if step.name == name)


def mlflow_runs(engine: Engine) -> int:
    return len(engine.runs.search(limit=None))


def test_unchanged_steps_come_from_cache_and_a_changed_param_retrains(churn: Engine, tmp_path: Path) -> None:
    path = pipeline_file(tmp_path)
    first = churn.pipelines.run(path)
    assert first.status == "succeeded" and first.reason is None
    assert set(statuses(first).values()) == {"succeeded"}
    run_id = step_output(first, "train")["run_id"]
    assert step_output(first, "register")["version"] == 1
    store = MlflowClient(tracking_uri=churn.tracking_uri)
    version = store.get_model_version("churn", "1")
    assert version.run_id == run_id and version.tags["mlops.pipeline_run"] == str(first.id)
    assert store.get_run(str(run_id)).data.tags["mlops.pipeline"] == "churn"
    gate = next(step for step in first.steps if step.name == "gate")
    assert [(v.check, v.passed) for v in gate.verdicts] == [("f1 >= 0.7", True)]

    again = churn.pipelines.run(path)
    assert statuses(again) == {
        "load": "cached",
        "validate": "cached",
        "train": "cached",
        "evaluate": "cached",
        "gate": "cached",
        "register": "cached",
    }
    assert again.cache_hits == 6 and step_output(again, "train")["run_id"] == run_id
    cached_gate = next(step for step in again.steps if step.name == "gate")
    assert cached_gate.verdicts == gate.verdicts
    assert mlflow_runs(churn) == 1 and len(store.search_model_versions("name = 'churn'")) == 1

    changed = churn.pipelines.run(pipeline_file(tmp_path, trees=25))
    assert statuses(changed)["load"] == "cached" and statuses(changed)["validate"] == "cached"
    assert statuses(changed)["train"] == "succeeded" and statuses(changed)["register"] == "succeeded"
    assert step_output(changed, "register")["version"] == 2 and mlflow_runs(churn) == 2

    forced = churn.pipelines.run(path, force=True)
    assert forced.forced and set(statuses(forced).values()) == {"succeeded"}
    assert mlflow_runs(churn) == 3
    assert [record.id for record in churn.pipelines.runs()] == [4, 3, 2, 1]


def test_a_refusing_gate_stops_the_pipeline_and_registers_nothing(churn: Engine, tmp_path: Path) -> None:
    record = churn.pipelines.run(pipeline_file(tmp_path, require='"f1 >= 0.99", "roc_auc >= 0.5"'))
    assert record.status == "failed"
    assert record.reason is not None and record.reason.startswith("step gate: gate refused: 0.")
    assert "fails f1 >= 0.99" in record.reason
    assert statuses(record)["gate"] == "failed" and statuses(record)["register"] == "skipped"
    gate = next(step for step in record.steps if step.name == "gate")
    assert [(v.check, v.passed) for v in gate.verdicts] == [("f1 >= 0.99", False), ("roc_auc >= 0.5", True)]
    with pytest.raises(MlflowException):
        MlflowClient(tracking_uri=churn.tracking_uri).get_registered_model("churn")
    assert any("failed at step gate" in event.message for event in churn.events.recent())


def test_failed_validation_stops_before_training(churn: Engine, tmp_path: Path) -> None:
    churn.datasets.ingest(SAMPLE / "churn_week_2.csv", "week2")
    record = churn.pipelines.run(pipeline_file(tmp_path, load='dataset = "week2"'))
    assert record.status == "failed"
    assert statuses(record) == {
        "load": "succeeded",
        "validate": "failed",
        "train": "skipped",
        "evaluate": "skipped",
        "gate": "skipped",
        "register": "skipped",
    }
    assert "week2@v1 failed suite churn_suite" in (record.reason or "")
    assert "expect_column_values_to_not_be_null on customer_id" in (record.reason or "")
    assert mlflow_runs(churn) == 0


def test_a_changed_dependency_file_or_a_deleted_run_retrains(churn: Engine, tmp_path: Path) -> None:
    code = tmp_path / "my_features.py"
    code.write_text("SCALE = 1\n")
    path = pipeline_file(tmp_path, train_extra='deps = ["my_features.py"]')
    first = churn.pipelines.run(path)
    assert statuses(churn.pipelines.run(path))["train"] == "cached"

    code.write_text("SCALE = 2\n")
    assert statuses(churn.pipelines.run(path))["train"] == "succeeded"

    latest = churn.pipelines.run(path)
    assert statuses(latest)["train"] == "cached"
    MlflowClient(tracking_uri=churn.tracking_uri).delete_run(str(step_output(latest, "train")["run_id"]))
    assert statuses(churn.pipelines.run(path))["train"] == "succeeded"
    assert step_output(first, "train")["run_id"] != step_output(latest, "train")["run_id"]

    code.unlink()
    broken = churn.pipelines.run(path)
    assert broken.status == "failed" and "deps file my_features.py cannot be read" in (broken.reason or "")


def test_a_query_load_stores_a_content_addressed_version(churn: Engine, tmp_path: Path) -> None:
    load = 'query = "SELECT * FROM churn WHERE region <> \'asia_pacific\'"\noutput = "churn_no_apac"'
    path = pipeline_file(tmp_path, load=load)
    first = churn.pipelines.run(path)
    assert first.status == "succeeded", first.reason
    assert step_output(first, "load")["dataset"] == "churn_no_apac@v1"
    assert "(new version)" in str(step_output(first, "load")["summary"])
    again = churn.pipelines.run(path)
    assert statuses(again)["load"] == "succeeded"  # a query must run to be known...
    assert step_output(again, "load")["dataset"] == "churn_no_apac@v1"  # ...and stores nothing new
    assert statuses(again)["train"] == "cached"
    assert [v.version for v in churn.datasets.versions("churn_no_apac")] == [1]

    bad = churn.pipelines.run(pipeline_file(tmp_path, load='query = "DELETE FROM churn"\noutput = "x"'))
    assert bad.status == "failed" and "only SELECT queries run here" in (bad.reason or "")
    assert churn.datasets.resolve("churn").row_count == 20_000


def test_beats_champion_scores_both_on_the_same_rows(churn: Engine, tmp_path: Path) -> None:
    gate = 'promotion_gates = false\nbeats_champion = { model_name = "churn", metric = "f1", margin = 0.0 }'
    first = churn.pipelines.run(pipeline_file(tmp_path, trees=5, gate_extra=gate))
    champion_check = next(s for s in first.steps if s.name == "gate").verdicts[-1]
    assert champion_check.passed and "has no champion yet" in champion_check.detail
    store = MlflowClient(tracking_uri=churn.tracking_uri)
    store.set_registered_model_alias("churn", "champion", "1")

    strict = 'promotion_gates = false\nbeats_champion = { model_name = "churn", metric = "f1", margin = 0.5 }'
    refused = churn.pipelines.run(pipeline_file(tmp_path, trees=30, gate_extra=strict))
    verdict = next(s for s in refused.steps if s.name == "gate").verdicts[-1]
    assert not verdict.passed and "does not beat churn v1's" in verdict.detail
    assert "+ 0.5 on the same held-out rows" in verdict.detail
    assert refused.status == "failed" and len(store.search_model_versions("name = 'churn'")) == 1

    accepted = churn.pipelines.run(pipeline_file(tmp_path, trees=30, gate_extra=gate))
    verdict = next(s for s in accepted.steps if s.name == "gate").verdicts[-1]
    assert verdict.passed and "beats churn v1's" in verdict.detail
    assert step_output(accepted, "register")["version"] == 2


def test_an_interrupted_run_is_recorded_as_such(churn: Engine, tmp_path: Path) -> None:
    def interrupt(stage: str, fraction: float | None) -> None:
        if stage.startswith("train: fitting"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        churn.pipelines.run(pipeline_file(tmp_path), progress=interrupt)
    record = churn.pipelines.get(1)
    assert record.status == "interrupted"
    assert statuses(record)["load"] == "succeeded" and statuses(record)["train"] == "failed"
    assert statuses(record)["register"] == "skipped"
    assert churn.pipelines.run(pipeline_file(tmp_path)).status == "succeeded"


def test_gates_read_whatever_the_evaluator_measures(churn: Engine, tmp_path: Path) -> None:
    """Fairness figures are gated by name, and a metric nobody measures is a refusal that says
    what is measured."""
    fair = '"f1 >= 0.7", "fairness.gender.demographic_parity_ratio >= 0.8"'
    refused = churn.pipelines.run(pipeline_file(tmp_path, require=fair))
    verdicts = next(step for step in refused.steps if step.name == "gate").verdicts
    check, passed, value = [(v.check, v.passed, v.value) for v in verdicts][1]
    assert check == "fairness.gender.demographic_parity_ratio >= 0.8" and not passed
    assert value is not None and 0.5 < value < 0.8  # the sample's planted disparity
    assert refused.status == "failed" and statuses(refused)["register"] == "skipped"

    unknown = churn.pipelines.run(pipeline_file(tmp_path, require='"calibration_error <= 0.05"'))
    detail = next(step for step in unknown.steps if step.name == "gate").verdicts[0].detail
    assert detail.startswith("no metric 'calibration_error'; evaluate gives accuracy, brier, business.")
    assert "fairness.age_group.demographic_parity_ratio" in detail


def test_a_gate_judges_the_promotion_gates_so_promotion_accepts_what_it_registers(
    churn: Engine, tmp_path: Path
) -> None:
    """By default a gate applies `mlops models promote`'s gates: the sample's disparity refuses
    the model in the pipeline already, with promote's own wording; once [fairness] allows it,
    the registered version is promotable as it is."""
    churn.quality.validate("churn", "churn_suite")
    refused = churn.pipelines.run(pipeline_file(tmp_path, gate_extra=""))
    gate = next(step for step in refused.steps if step.name == "gate")
    assert [(v.check, v.passed) for v in gate.verdicts] == [
        ("training data passed validation", True),
        ("f1 >= 0.7", True),
        ("fairness within bounds", False),
        ("f1 >= 0.7", True),
    ]
    assert "gender: demographic parity ratio" in (refused.reason or "")
    assert statuses(refused)["register"] == "skipped"


def test_what_a_gate_with_promotion_gates_registers_promotion_accepts(
    workspace: Path, tmp_path: Path
) -> None:
    (workspace / ".mlops" / "config.toml").write_text(LOOSE_GATES)
    with Engine.open(workspace, command="pytest") as engine:
        engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        engine.suites.add(SAMPLE / "churn_suite.json", "churn_suite")
        record = engine.pipelines.run(pipeline_file(tmp_path, require='"f1 >= 0.5"', gate_extra=""))
        assert record.status == "succeeded", record.reason
        promotion = engine.registry.promote("churn", 1)
        assert promotion.promoted, [v.detail for v in promotion.verdicts if not v.passed]
