"""`mlops eval` as a user runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, hosted, mlops_json, run_mlops

SAMPLE = REPO_ROOT / "sample_data"


@pytest.mark.slow
def test_eval_prints_the_report_and_one_json_document(workspace: Path) -> None:
    with hosted(workspace):  # its commands run through an owner
        eval_prints_the_report_and_one_json_document(workspace)


def eval_prints_the_report_and_one_json_document(workspace: Path) -> None:
    mlops_json(workspace, "data", "ingest", str(SAMPLE / "churn_reference.csv"), "--name", "churn")
    run = mlops_json(
        workspace, "train", "--dataset", "churn", "--target", "churned", "--param", "n_estimators=20"
    )
    document = mlops_json(workspace, "eval", run["run_id"])
    assert document["rows"] == 4000 and document["metrics"]["f1"] == run["metrics"]["f1"]
    assert {"confusion", "calibration", "roc", "pr", "business", "fairness", "violations"} <= set(document)

    human = run_mlops("eval", run["run_name"], "--no-log", "-w", str(workspace))
    assert human.returncode == 0, human.stderr
    assert "held-out rows, 4,000 rows" in human.stdout and "cost at the cheapest threshold" in human.stdout
    assert "✗ violation: demographic parity ratio" in human.stdout

    missing = run_mlops("eval", "churn@champion", "-w", str(workspace))
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: no model version behind 'churn@champion'")
