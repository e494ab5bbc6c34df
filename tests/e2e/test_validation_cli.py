"""`mlops suite ...`, `mlops data validate` and `mlops data require` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import REPO_ROOT, run_mlops

SAMPLE = REPO_ROOT / "sample_data"


def mlops(workspace: Path, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = run_mlops(*args, "--json", "--workspace", str(workspace))
    document = json.loads(result.stdout or result.stderr)
    return result.returncode, document


def test_suites_validation_and_quarantine_end_to_end(workspace: Path) -> None:
    code, added = mlops(workspace, "suite", "add", str(SAMPLE / "churn_suite.json"))
    assert code == 0 and added["expectations"] == 7
    assert [s["name"] for s in mlops(workspace, "suite", "list")[1]["suites"]] == ["churn_suite"]
    assert len(mlops(workspace, "suite", "show", "churn_suite")[1]["suite"]["expectations"]) == 7

    mlops(workspace, "data", "ingest", str(SAMPLE / "churn_week_1.csv"), "--name", "weekly")
    code, passed = mlops(workspace, "data", "validate", "weekly", "--suite", "churn_suite")
    assert (code, passed["success"]) == (0, True)

    code, required = mlops(workspace, "data", "require", "weekly", "--suite", "churn_suite")
    assert code == 0 and required == {"dataset": "weekly", "required_suite": "churn_suite"}
    code, faulty = mlops(workspace, "data", "ingest", str(SAMPLE / "churn_week_2.csv"), "--name", "weekly")
    assert code == 0 and faulty["status"] == "quarantined" and faulty["validation"]["success"] is False

    code, failed = mlops(workspace, "data", "validate", "weekly@v2", "--suite", "churn_suite")
    assert code == 1
    failing = [(r["type"], r["kwargs"]["column"]) for r in failed["results"] if not r["success"]]
    assert failing == [
        ("expect_column_values_to_not_be_null", "customer_id"),
        ("expect_column_values_to_be_between", "age"),
    ]

    code, inferred = mlops(workspace, "suite", "infer", "weekly@v1", "--save")
    assert code == 0 and inferred["name"] == "weekly_inferred"
    assert "weekly_inferred" in [s["name"] for s in mlops(workspace, "suite", "list")[1]["suites"]]


def test_validation_errors_are_one_line(workspace: Path, tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text(
        '{"name": "x", "expectations": [{"type": "expect_column_to_be_shiny"}]}'
    )
    result = run_mlops("suite", "add", str(tmp_path / "broken.json"), "-w", str(workspace))
    assert (
        result.returncode == 2
        and result.stderr.count("\n") == 1
        and "expect_column_to_be_shiny" in result.stderr
    )
    result = run_mlops("data", "validate", "nope", "--suite", "x", "-w", str(workspace))
    assert result.returncode == 2 and result.stderr.startswith("error: no dataset named 'nope'")
