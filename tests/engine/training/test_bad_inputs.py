"""Input a person can get wrong is refused in one line naming the option, the value and what was
expected, before any run is created, for `train` and `sweep` alike; the checks that need no
scikit-learn come before it (and MLflow) are imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from engine.errors import InvalidInput
from engine.facade import Engine
from engine.types.training import SweepRequest, TrainRequest
from tests.conftest import REPO_ROOT, SAMPLE


def write_datasets(folder: Path) -> dict[str, Path]:
    """Small tables, each shaped like a mistake seen in real data."""
    churn = pd.read_csv(SAMPLE / "churn_reference.csv")
    small = churn.head(50)
    accounts = churn.head(400).assign(churned=lambda f: f.churned.map({0: "active", 1: "churned"}))
    three = churn.head(30).assign(churned=[0] * 15 + [1] * 14 + [2])  # class 2: one row
    tiers = churn.head(30).assign(churned=[0] * 14 + [1] * 14 + [2] * 2)
    late = churn.head(40).sort_values("event_timestamp").assign(churned=[0] * 32 + [1] * 8)
    tables = {
        "small": small,
        "accounts": accounts,
        "pair": pd.DataFrame({"a": [1, 2], "y": [0, 1]}),  # every column an identifier
        "three": three,
        "tiers": tiers,
        "late": late,  # the positives are the latest rows
    }
    paths = {}
    for name, frame in tables.items():
        paths[name] = folder / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    return paths


@pytest.fixture
def datasets(engine: Engine, tmp_path: Path) -> Engine:
    for name, path in write_datasets(tmp_path).items():
        engine.datasets.ingest(path, name)
    return engine


CASES: list[tuple[dict[str, Any], str]] = [
    (
        {"dataset": "accounts"},
        r"^--target 'churned' has the labels 'active' and 'churned' in accounts@v1; expected "
        r"--positive-class naming the one to predict",
    ),
    (
        {"dataset": "accounts", "positive_class": "gone"},
        r"^--positive-class 'gone' is not a label of --target 'churned' in accounts@v1; "
        r"expected 'active' or 'churned'$",
    ),
    (
        {"dataset": "tiers", "positive_class": "1"},
        r"^--positive-class '1': --target 'churned' has 3 classes in tiers@v1; expected a binary target",
    ),
    (
        {"dataset": "pair", "target": "y"},
        r"^pair@v1 leaves no feature to train on: .* expected --features naming the columns to use$",
    ),
    (
        {"dataset": "three"},
        r"^--target 'churned': class '2' has a single row in three@v1; "
        r"expected at least 2 rows of each class",
    ),
    (
        {"test_size": 0.001},
        r"^--test-size 0.001 with --split random on the 50 rows of small@v1 holds out 1 and trains on 49 "
        r"rows; a stratified split needs at least one row of each of the 2 classes on both sides$",
    ),
    (
        {"test_size": 0.001, "split": "time"},
        r"^--test-size 0.001 with --split time on the 50 rows of small@v1 leaves no test rows; "
        r"expected a test size holding out at least 1 and at most 49 of the rows$",
    ),
    (
        {"test_size": 0.999, "split": "time"},
        r"^--test-size 0.999 with --split time .* leaves no training rows",
    ),
    (
        {"dataset": "late", "split": "time"},
        r"^--test-size 0.2 with --split time on the 40 rows of late@v1: class '1' of --target 'churned' "
        r"appears only among the 8 latest rows held out; expected every class among the training rows$",
    ),
    ({"seed": -1}, r"^--seed -1: expected an integer from 0 to 4294967295$"),
    ({"seed": 2**32}, r"^--seed 4294967296: expected an integer from 0 to 4294967295$"),
    (
        {"params": {"n_estimators": "-5"}},
        r"^--param n_estimators=-5: expected an int in the range \[1, inf\) \(RandomForestClassifier\)$",
    ),
    (
        {"model": "hist_gradient_boosting", "params": {"learning_rate": "0"}},
        r"^--param learning_rate=0.0: expected a float in the range \(0.0, inf\) "
        r"\(HistGradientBoostingClassifier\)$",
    ),
    (
        {"target": "avg_order_value"},
        r"^--target 'avg_order_value' holds continuous numbers in small@v1 \(e.g. 70.72\); "
        r"expected class labels: the catalogue's models are classifiers$",
    ),
]


@pytest.mark.parametrize(("fields", "message"), CASES)
def test_training_refuses_bad_input_in_one_line(
    datasets: Engine, fields: dict[str, Any], message: str
) -> None:
    request = TrainRequest(**{"dataset": "small", "target": "churned", **fields})
    with pytest.raises(InvalidInput, match=message) as refused:
        datasets.training.train(request)
    assert "\n" not in str(refused.value)
    assert datasets.status().counts.runs == 0


@pytest.mark.parametrize(
    ("base", "grid", "message"),
    [
        ({"seed": -1}, {}, r"^--seed -1: expected an integer"),
        (
            {},
            {"n_estimators": ["10", "-5"]},
            r"^--grid n_estimators=-5: expected an int in the range \[1, inf\)",
        ),
        ({"dataset": "accounts"}, {}, r"^--target 'churned' has the labels 'active' and 'churned'"),
        ({"target": "avg_order_value"}, {}, r"^--target 'avg_order_value' holds continuous numbers"),
        ({"dataset": "three"}, {}, r"^--target 'churned': class '2' has a single row"),
        ({"dataset": "pair", "target": "y"}, {}, r"^pair@v1 leaves no feature to train on"),
    ],
)
def test_a_sweep_refuses_the_same_input_before_its_parent_run(
    datasets: Engine, base: dict[str, Any], grid: dict[str, list[str]], message: str
) -> None:
    request = SweepRequest(
        TrainRequest(**{"dataset": "small", "target": "churned", **base}),
        grid=grid,
        trials=None if grid else 2,
    )
    with pytest.raises(InvalidInput, match=message):
        datasets.training.sweep(request)
    assert datasets.status().counts.runs == 0


REFUSE_WITHOUT_IMPORTING = """
import json, sys
from engine.errors import InvalidInput
from engine.facade import Engine
from engine.types.training import SweepRequest, TrainRequest
answers = []
with Engine.open(sys.argv[1]) as engine:
    for fields in json.loads(sys.argv[2]):
        try:
            engine.training.train(TrainRequest(**fields))
        except InvalidInput as error:
            answers.append(str(error).split(":")[0])
    try:
        engine.training.sweep(SweepRequest(TrainRequest("small", "nope"), trials=2))
    except InvalidInput as error:
        answers.append(str(error).split(";")[0])
heavy = sorted({name.split(".")[0] for name in sys.modules} & {"sklearn", "mlflow", "scipy"})
print(json.dumps({"answers": answers, "heavy": heavy}))
"""


def test_input_is_checked_before_scikit_learn_and_mlflow_are_imported(workspace: Path) -> None:
    """The imports take seconds: a mistyped option must not wait for them (a fresh process, so
    nothing else has imported them already)."""
    with Engine.open(workspace) as engine:
        for name, path in write_datasets(workspace).items():
            engine.datasets.ingest(path, name)
    bad = [
        {"dataset": "small", "target": "nope"},
        {"dataset": "nothing", "target": "churned"},
        {"dataset": "small", "target": "churned", "seed": -1},
        {"dataset": "small", "target": "churned", "test_size": 1.5},
        {"dataset": "small", "target": "churned", "test_size": 0.001, "split": "time"},
        {"dataset": "small", "target": "avg_order_value"},
        {"dataset": "accounts", "target": "churned"},
        {"dataset": "three", "target": "churned"},
        {"dataset": "pair", "target": "y"},
        {"dataset": "small", "target": "churned", "params": {"depth": "3"}},
    ]
    result = subprocess.run(
        [sys.executable, "-c", REFUSE_WITHOUT_IMPORTING, str(workspace), json.dumps(bad)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert len(outcome["answers"]) == len(bad) + 1, outcome
    assert outcome["heavy"] == []
