"""`mlops train` and `mlops runs ...` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, mlops_json, run_mlops

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
