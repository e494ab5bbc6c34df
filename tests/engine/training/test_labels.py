"""The positive-class rule (engine/training/labels.py): what chooses itself, what must be named,
and a string-labelled target trained, reproduced, swept and exported with the class it names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from engine.errors import InvalidInput
from engine.facade import Engine
from engine.training.labels import choose_positive, recorded_positive
from engine.types.training import RunResult, SweepRequest, TrainRequest
from tests.conftest import SAMPLE


@pytest.mark.parametrize(
    ("labels", "positive"),
    [
        ([0, 1], 1),
        ([1, 0], 1),
        ([0.0, 1.0], 1.0),
        ([-1, 1], 1),
        ([False, True], True),
        (["0", "1"], "1"),
        (["No", "Yes"], "Yes"),
        (["yes", "no"], "yes"),
        (["N", "Y"], "Y"),
        (["FALSE", "TRUE"], "TRUE"),
        (["f", "t"], "t"),
    ],
)
def test_obvious_pairs_choose_themselves(labels: list[Any], positive: Any) -> None:
    assert choose_positive(labels, None, "churned", "churn@v1") == positive


@pytest.mark.parametrize("labels", [["churned", "active"], [1, 2], ["yes", "maybe"], [0, 2]])
def test_any_other_pair_needs_the_option_naming_both_labels(labels: list[Any]) -> None:
    with pytest.raises(InvalidInput) as refused:
        choose_positive(labels, None, "status", "accounts@v1")
    message = str(refused.value)
    first, second = sorted(str(label) for label in labels)
    assert message.startswith(f"--target 'status' has the labels {first!r} and {second!r} in accounts@v1;")
    assert "--positive-class" in message and "\n" not in message


@pytest.mark.parametrize(
    ("labels", "given", "positive"),
    [
        (["active", "churned"], "active", "active"),
        (["active", "churned"], "CHURNED", "churned"),
        ([0.0, 1.0], "1", 1.0),
        ([False, True], "false", False),  # naming the other class of an obvious pair is allowed
        ([1, 2], "2", 2),
    ],
)
def test_the_option_names_a_label_exactly_or_loosely(labels: list[Any], given: str, positive: Any) -> None:
    assert choose_positive(labels, given, "status", "accounts@v1") == positive


def test_the_option_must_name_a_label_of_a_binary_target() -> None:
    with pytest.raises(InvalidInput, match=r"^--positive-class 'gone' is not a label of --target 'status' "
                       r"in accounts@v1; expected 'active' or 'churned'$"):  # fmt: skip
        choose_positive(["active", "churned"], "gone", "status", "accounts@v1")
    with pytest.raises(InvalidInput, match=r"has 3 classes in plans@v1; expected a binary target"):
        choose_positive(["a", "b", "c"], "a", "plan", "plans@v1")
    assert choose_positive(["a", "b", "c"], None, "plan", "plans@v1") is None


def test_a_fitted_model_uses_what_its_run_recorded() -> None:
    assert recorded_positive(["active", "churned"], "active", "r1") == "active"
    assert recorded_positive([0, 1], None, "old-run") == 1  # recorded before the tag: the larger label
    assert recorded_positive(["a", "b", "c"], None, "r2") is None
    with pytest.raises(InvalidInput, match="recorded by run r3 is not a label of its model"):
        recorded_positive(["active", "churned"], "left", "r3")


@pytest.fixture
def accounts(engine: Engine, tmp_path: Path) -> Engine:
    """The churn sample twice: labelled 0/1 ("churn") and active/churned ("accounts")."""
    frame = pd.read_csv(SAMPLE / "churn_reference.csv").head(2000)
    frame.to_csv(tmp_path / "churn.csv", index=False)
    frame.assign(churned=frame.churned.map({0: "active", 1: "churned"})).to_csv(
        tmp_path / "accounts.csv", index=False
    )
    engine.datasets.ingest(tmp_path / "churn.csv", "churn")
    engine.datasets.ingest(tmp_path / "accounts.csv", "accounts")
    return engine


def test_a_string_target_scores_the_class_it_was_told_and_records_it(accounts: Engine) -> None:
    def train(dataset: str, positive: str | None) -> RunResult:
        return accounts.training.train(
            TrainRequest(dataset, "churned", params={"n_estimators": "20"}, positive_class=positive)
        )

    numbers = train("churn", None)
    churned, active = train("accounts", "churned"), train("accounts", "active")
    assert numbers.positive_class == "1" and churned.positive_class == "churned"
    assert churned.metrics == numbers.metrics  # the same model, the same class scored
    assert active.positive_class == "active"
    for name in ("accuracy", "roc_auc", "log_loss"):  # symmetric in the classes
        assert active.metrics[name] == pytest.approx(numbers.metrics[name])
    assert active.metrics["f1"] != pytest.approx(numbers.metrics["f1"])
    store = MlflowClient(tracking_uri=accounts.tracking_uri)
    assert store.get_run(active.run_id).data.tags["mlops.positive_class"] == "active"
    again = accounts.training.reproduce(active.run_id)
    assert again.exact and again.run.positive_class == "active"

    sweep = accounts.training.sweep(
        SweepRequest(
            TrainRequest("accounts", "churned", positive_class="active"),
            grid={"n_estimators": ["5", "10"]},
            workers=2,
        )
    )
    assert len(sweep.trials) == 2
    for trial in sweep.trials:
        assert store.get_run(trial.run_id).data.tags["mlops.positive_class"] == "active"


def test_the_onnx_export_carries_the_classes_and_the_positive_class(accounts: Engine) -> None:
    import onnxruntime

    run = accounts.training.train(
        TrainRequest("accounts", "churned", params={"n_estimators": "20"}, positive_class="active")
    )
    accounts.registry.register(run.run_id, "accounts")
    record = accounts.registry.export_onnx("accounts", 1)
    assert record.labels_identical and record.max_abs_difference <= 1e-5
    session = onnxruntime.InferenceSession(record.path, providers=["CPUExecutionProvider"])
    metadata = session.get_modelmeta().custom_metadata_map
    assert metadata["mlops.positive_class"] == "active"
    assert json.loads(metadata["mlops.classes"]) == ["active", "churned"]  # probability columns
