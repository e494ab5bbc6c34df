"""`mlops train` and `mlops runs ...` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import REPO_ROOT, hosted, mlops_json, run_mlops

SAMPLE = REPO_ROOT / "sample_data"


@pytest.mark.slow
def test_train_then_list_show_and_compare(workspace: Path) -> None:
    mlops_json(workspace, "data", "ingest", str(SAMPLE / "churn_reference.csv"), "--name", "churn")
    catalogue = mlops_json(workspace, "models", "catalogue")
    assert [m["name"] for m in catalogue["models"]] == [
        "logistic_regression",
        "random_forest",
        "gradient_boosting",
        "hist_gradient_boosting",
    ]
    forest = mlops_json(
        workspace,
        "train",
        "--dataset",
        "churn",
        "--target",
        "churned",
        "--model",
        "random_forest",
        "--param",
        "n_estimators=40",
        "--param",
        "max_depth=8",
        "--run-name",
        "forest",
    )
    assert (
        forest["dataset"] == "churn@v1"
        and forest["params"]["max_depth"] == 8
        and forest["metrics"]["f1"] > 0.75
    )
    linear = mlops_json(
        workspace,
        "train",
        "--dataset",
        "churn@v1",
        "--target",
        "churned",
        "--model",
        "logistic_regression",
        "--split",
        "time",
        "--run-name",
        "linear",
    )
    assert linear["run_name"] == "linear"

    listed = mlops_json(
        workspace,
        "runs",
        "list",
        "--filter",
        "params.max_depth = '8' or metrics.f1 > 0.99",
        "--order-by",
        "metrics.f1 DESC",
    )
    assert [run["run_name"] for run in listed["runs"]] == ["forest"]
    shown = mlops_json(workspace, "runs", "show", forest["run_id"][:10])
    assert shown["dataset"] == "churn@v1" and shown["tags"]["mlops.model"] == "random_forest"
    compared = mlops_json(workspace, "runs", "compare", "forest", "linear")
    assert "max_depth" in compared["differing_params"] and compared["best"]["f1"] in {"forest", "linear"}
    assert mlops_json(workspace, "status")["counts"]["runs"] == 2


def test_training_errors_are_one_line(workspace: Path) -> None:
    mlops_json(workspace, "data", "ingest", str(SAMPLE / "churn_week_1.csv"), "--name", "weekly")
    result = run_mlops("train", "--dataset", "weekly", "--target", "churned", "-w", str(workspace))
    assert result.returncode == 2 and result.stderr.startswith(
        "error: --target 'churned' is not a column of weekly@v1"
    )
    bad_filter = run_mlops("runs", "list", "--filter", "metrics.f1 >", "-w", str(workspace))
    assert bad_filter.returncode == 2 and bad_filter.stderr.count("\n") == 1


def test_string_labels_and_missing_integers_through_the_command(workspace: Path, tmp_path: Path) -> None:
    with hosted(workspace):  # its commands run through an owner
        string_labels_and_missing_integers(workspace, tmp_path)


def string_labels_and_missing_integers(workspace: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(SAMPLE / "churn_reference.csv").head(2000)
    frame.assign(churned=frame.churned.map({0: "active", 1: "churned"})).to_csv(
        tmp_path / "accounts.csv", index=False
    )
    frame["total_orders"] = frame.total_orders.astype("Int64")
    frame.loc[::7, "total_orders"] = pd.NA
    frame.to_csv(tmp_path / "gaps.csv", index=False)
    mlops_json(workspace, "data", "ingest", str(tmp_path / "accounts.csv"), "--name", "accounts")
    mlops_json(workspace, "data", "ingest", str(tmp_path / "gaps.csv"), "--name", "gaps")

    train = ("train", "--target", "churned", "--param", "n_estimators=20", "-w", str(workspace))
    unnamed = run_mlops(*train, "--dataset", "accounts")
    assert unnamed.returncode == 2 and unnamed.stderr.count("\n") == 1, unnamed.stderr
    assert unnamed.stderr.startswith(
        "error: --target 'churned' has the labels 'active' and 'churned' in accounts@v1; "
        "expected --positive-class"
    )
    run = mlops_json(workspace, *train[:-2], "--dataset", "accounts", "--positive-class", "active")
    assert run["positive_class"] == "active" and run["metrics"]["f1"] > 0.7
    evaluation = mlops_json(workspace, "eval", run["run_id"])
    assert evaluation["metrics"]["f1"] == pytest.approx(run["metrics"]["f1"])
    found = mlops_json(workspace, "runs", "list", "--filter", "params.n_estimators = 20")
    assert [item["run_id"] for item in found["runs"]] == [run["run_id"]]

    boosted = mlops_json(
        workspace,
        "train",
        "--dataset",
        "gaps",
        "--target",
        "churned",
        "--model",
        "hist_gradient_boosting",
        "--param",
        "max_iter=20",
    )
    assert boosted["metrics"]["roc_auc"] > 0.7

    for option, message in (
        (("--seed", "-1"), "error: --seed -1: expected an integer from 0 to 4294967295\n"),
        (("--param", "n_estimators=-5"), "error: --param n_estimators=-5: expected an int in the range"),
        (("--test-size", "0.0001", "--split", "time"), "error: --test-size 0.0001 with --split time on"),
    ):
        refused = run_mlops(*train, "--dataset", "gaps", *option)
        assert refused.returncode == 2 and refused.stderr.startswith(message), refused.stderr
        assert refused.stderr.count("\n") == 1
