"""Run search with MLflow's filter syntax plus or/parentheses, ordering, lookup and comparison,
over a real MLflow store filled through MLflow's own client."""

from __future__ import annotations

import pytest
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from engine.errors import InvalidInput
from engine.facade import Engine
from engine.training.run_filter import parse_filter
from engine.types.training import Run

RUNS = [  # name, model, max_depth, f1, log_loss
    ("rf-shallow", "random_forest", "5", 0.80, 0.40),
    ("rf-deep", "random_forest", "10", 0.84, 0.35),
    ("gb", "gradient_boosting", "3", 0.86, 0.33),
    ("lr", "logistic_regression", None, 0.78, 0.45),
]


@pytest.fixture
def filled(engine: Engine) -> Engine:
    store = MlflowClient(tracking_uri=engine.tracking_uri)
    experiment = store.create_experiment(
        "churn", artifact_location=(engine.workspace.artifacts_dir / "churn").as_uri()
    )
    for index, (name, model, depth, f1, loss) in enumerate(RUNS):
        run = store.create_run(experiment, run_name=name, start_time=1_000 + index)
        params = [Param("model", model)] + ([Param("max_depth", depth)] if depth else [])
        store.log_batch(
            run.info.run_id,
            metrics=[Metric("f1", f1, 0, 0), Metric("log_loss", loss, 0, 0)],
            params=params,
            tags=[RunTag("mlops.dataset", "churn"), RunTag("mlops.dataset_version", "1")],
        )
        store.set_terminated(run.info.run_id, "FINISHED")
    return engine


def names(runs: list[Run]) -> list[str]:
    return [run.run_name for run in runs]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["lr", "gb", "rf-deep", "rf-shallow"]),
        ("metrics.f1 > 0.81", ["gb", "rf-deep"]),
        ("params.model = 'random_forest' and metrics.f1 >= 0.84", ["rf-deep"]),
        ("metrics.f1 > 0.85 or params.max_depth = '5'", ["gb", "rf-shallow"]),
        (
            "(params.model = 'random_forest' or params.model = 'logistic_regression')"
            " and metrics.log_loss < 0.42",
            ["rf-deep", "rf-shallow"],
        ),
        (
            "params.model = 'gradient_boosting' or params.model = 'random_forest' and metrics.f1 < 0.81",
            ["gb", "rf-shallow"],
        ),  # and binds tighter than or
        ("params.max_depth != '5'", ["gb", "rf-deep"]),  # runs without the param never match
        ("params.model LIKE 'random%'", ["rf-deep", "rf-shallow"]),
        ("params.model ILIKE '%FOREST'", ["rf-deep", "rf-shallow"]),
        ("params.max_depth IN ('3', '10')", ["gb", "rf-deep"]),
        ("params.max_depth NOT IN ('3', '10')", ["rf-shallow"]),
        ("tags.`mlops.dataset` = 'churn' and attributes.run_name = 'lr'", ["lr"]),
        ('attributes.status = "FINISHED" and metric.f1 < 0.79', ["lr"]),
        # Params are text; an unquoted number compares them as numbers (not "10.0" = "10").
        ("params.max_depth = 10", ["rf-deep"]),
        ("params.max_depth = 10.0", ["rf-deep"]),
        ("params.max_depth >= 5", ["rf-deep", "rf-shallow"]),
        ("params.max_depth IN (3, 5)", ["gb", "rf-shallow"]),
        ("params.max_depth != 5", ["gb", "rf-deep"]),  # a run without the param still never matches
        ("params.model = 5", []),  # not a number: no match
    ],
)
def test_filters(filled: Engine, text: str, expected: list[str]) -> None:
    assert names(filled.runs.search(filter_text=text)) == expected


def test_ordering_and_limit(filled: Engine) -> None:
    assert names(filled.runs.search(order_by="metrics.f1 DESC", limit=2)) == ["gb", "rf-deep"]
    assert names(filled.runs.search(order_by="metrics.log_loss")) == ["gb", "rf-deep", "rf-shallow", "lr"]
    by_depth = names(filled.runs.search(order_by="params.max_depth ASC, metrics.f1 DESC"))
    assert by_depth == ["rf-deep", "gb", "rf-shallow", "lr"]  # text order; runs without the param last
    assert names(filled.runs.search(experiment="churn")) == names(filled.runs.search())
    assert filled.runs.search(experiment="other") == []


def test_lookup_by_name_prefix_and_id(filled: Engine) -> None:
    run = filled.runs.get("gb")
    assert filled.runs.get(run.run_id) == run
    assert filled.runs.get(run.run_id[:8]) == run
    with pytest.raises(InvalidInput, match="no run matches 'nope'"):
        filled.runs.get("nope")


def test_compare_marks_differences_and_the_best(filled: Engine) -> None:
    comparison = filled.runs.compare(["rf-shallow", "rf-deep", "gb"])
    assert comparison.differing_params == {"model", "max_depth"}
    assert comparison.params["max_depth"] == ["5", "10", "3"]
    assert comparison.best == {"f1": 2, "log_loss": 2}
    same_model = filled.runs.compare(["rf-shallow", "rf-deep"])
    assert same_model.differing_params == {"max_depth"} and same_model.best["log_loss"] == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.f1 > 'high'", "metrics.f1 is a number"),
        ("params.model > 'a'", "params.model > 'a' compares text"),
        ("metrics.f1 > 0.8 and (params.model = 'a'", "ends too early"),
        ("metrics.f1 0.8", "expected an operator"),
        ("f1 > 0.8", "expected a field like metrics.f1"),
        ("foo.f1 > 0.8", "expected metrics., params., tags. or attributes."),
        ("attributes.colour = 'red'", "unknown attribute"),
        ("params.max_depth IN (3, '5')", "mixes numbers and quoted text"),
        ("metrics.f1 > 0.8 metrics.f1 < 0.9", "expected and, or or the end"),
    ],
)
def test_bad_filters_say_what_and_where(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_filter(text)
