"""`mlops demo` as a user runs it: the whole lifecycle on the sample data in a new workspace,
one JSON document, and a second run that adds nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.facade import Engine
from tests.conftest import ENV, SAMPLE, run_mlops

pytestmark = pytest.mark.slow


def demo(workspace: Path) -> dict[str, Any]:
    done = run_mlops("demo", "--json", "--workspace", str(workspace), env=ENV, timeout=300)
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)  # one document: no alert lines on stdout
    return document


def counts(workspace: Path) -> dict[str, Any]:
    done = run_mlops("status", "--json", "--workspace", str(workspace), env=ENV)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout)["counts"])


def test_the_demo_runs_the_lifecycle_once(tmp_path: Path) -> None:
    workspace = tmp_path / "demo"  # absent: the demo creates it
    report = demo(workspace)
    assert report["added"] is True

    statuses = {v["ref"]: (v["source"], v["status"]) for v in report["versions"]}
    assert statuses == {
        "churn@v1": ("churn_reference.csv", "passed"),
        "churn@v2": ("churn_week_1.csv", "passed"),
        "churn@v3": ("churn_week_2.csv", "quarantined"),  # the week with quality faults
        "churn@v4": ("churn_week_3.csv", "passed"),
        "churn@v5": ("churn_week_4.csv", "passed"),
    }

    runs = report["runs"]
    assert {run["model"] for run in runs if run["how"] == "train"} == {
        "logistic_regression", "random_forest", "hist_gradient_boosting",
    }  # fmt: skip
    assert sum(run["how"] == "sweep" for run in runs) == 4
    assert report["pipeline"]["status"] == "succeeded" and report["pipeline"]["registered"] == "churn@v1"
    best = report["best"]
    assert best["f1"] == max(run["f1"] for run in runs) and not best["forced"]
    assert set(best["fairness"]) == {"gender", "age_group", "region"}
    assert best["fairness"]["age_group"]["demographic_parity_ratio"] < 0.8  # the planted bias, shown
    assert "min_ratio = 0.6" in report["fairness"] and Path(best["onnx"]).is_file()

    raised = [(alert["when"], alert["source"], alert["severity"]) for alert in report["alerts"]]
    drift = [when for when, source, _ in raised if source == "drift:churn-api"]
    assert drift == ["week 2", "week 3"]  # week 1 is like the reference
    assert "2 of 10 drifted" in report["checks"][1]["drift"]  # mild: a fifth is the demo's line
    assert ("late labels (week 4)", "accuracy:churn-api", "critical") in raised

    loop = report["loop"]
    assert loop["trigger"] == "accuracy" and loop["outcome"] == "promoted", json.dumps(loop, indent=1)
    data = next(step for step in loop["steps"] if step["step"] == "data")
    assert "left out: their batch failed validation" in data["detail"]  # week 2 never trains
    assert report["champion_before"] == f"churn v{best['version']}"
    assert report["champion_after"] == loop["challenger"] != report["champion_before"]
    assert ("retrain loop", "loop:churn-api", "info") in raised

    before = counts(workspace)
    again = demo(workspace)
    assert again["added"] is False
    assert {**again, "added": True} == report  # the same report, shown again
    assert counts(workspace) == before


def test_a_workspace_with_work_of_its_own_is_refused(workspace: Path) -> None:
    with Engine.open(workspace, command="pytest") as engine:
        engine.suites.add(SAMPLE / "churn_suite.json", "churn_suite")
        engine.datasets.ingest(SAMPLE / "churn_week_1.csv", "week1")
    done = run_mlops("demo", "--json", "--workspace", str(workspace), env=ENV)
    assert done.returncode != 0 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert "work of its own (1 datasets" in json.loads(line)["error"]


def test_the_demo_folder_is_the_demo_s_default_only() -> None:
    """--workspace is one action every command shares: the demo's default folder must not
    become theirs (bare `mlops` in a workspace would look for ./demo-workspace)."""
    from engine.cli import _parse

    for command in (["status"], ["console"], ["demo"]):
        assert _parse(command, None).workspace is None
