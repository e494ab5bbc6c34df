"""`mlops pipeline ...` as a user runs it, on the sample pipeline file that ships."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import LOOSE_GATES, REPO_ROOT, mlops_json, run_mlops

SAMPLE = REPO_ROOT / "sample_data"


@pytest.mark.slow
def test_the_sample_pipeline_runs_caches_and_refuses(workspace: Path, tmp_path: Path) -> None:
    mlops_json(workspace, "data", "ingest", str(SAMPLE / "churn_reference.csv"), "--name", "churn")
    mlops_json(workspace, "suite", "add", str(SAMPLE / "churn_suite.json"), "--name", "churn_suite")
    sample = SAMPLE / "churn_pipeline.toml"

    unfair = run_mlops("pipeline", "run", str(sample), "-w", str(workspace), "--json")
    assert unfair.returncode == 1, unfair.stderr
    document = json.loads(unfair.stdout)
    assert document["status"] == "failed" and "gender: demographic parity ratio" in document["reason"]
    assert [step["status"] for step in document["steps"]][-2:] == ["failed", "skipped"]

    (workspace / ".mlops" / "config.toml").write_text(LOOSE_GATES)  # the owner accepts the disparity
    first = mlops_json(workspace, "pipeline", "run", str(sample))
    assert first["status"] == "succeeded" and first["cache_hits"] == 3  # new bounds: judged again
    assert [step["status"] for step in first["steps"]] == ["cached"] * 3 + ["succeeded"] * 3
    assert first["steps"][-1]["output"]["version"] == 1

    again = run_mlops("pipeline", "run", str(sample), "-w", str(workspace))
    assert again.returncode == 0, again.stderr
    assert "succeeded in" in again.stdout and "6 of 6 steps from cache" in again.stdout
    assert "↺ cached" in again.stdout and "f1 >= 0.7" in again.stdout

    strict = tmp_path / "strict.toml"
    strict.write_text(sample.read_text().replace('"f1 >= 0.7"', '"f1 >= 0.99"'))
    refused = run_mlops("pipeline", "run", str(strict), "-w", str(workspace))
    assert refused.returncode == 1
    assert "step gate: gate refused" in refused.stdout and "fails f1 >= 0.99" in refused.stdout

    runs = mlops_json(workspace, "pipeline", "runs")
    assert [(r["id"], r["status"]) for r in runs["runs"]] == [
        (4, "failed"),
        (3, "succeeded"),
        (2, "succeeded"),
        (1, "failed"),
    ]
    shown = run_mlops("pipeline", "show", "4", "-w", str(workspace))
    assert shown.returncode == 0 and "✗ fail" in shown.stdout and "⊘ skipped" in shown.stdout


def test_bad_input_is_one_line(workspace: Path, tmp_path: Path) -> None:
    missing = run_mlops("pipeline", "run", str(tmp_path / "none.toml"), "-w", str(workspace))
    assert missing.returncode == 2 and missing.stderr.strip().endswith("none.toml does not exist")
    bad = tmp_path / "bad.toml"
    bad.write_text("[steps.load]\ndataset = 'churn'\n[steps.deploy]\n")
    wrong = run_mlops("pipeline", "run", str(bad), "-w", str(workspace))
    assert wrong.returncode == 2
    assert wrong.stderr.strip() == (
        "error: bad.toml: step 'deploy': no kind; "
        "set kind = one of load, validate, train, evaluate, gate, register"
    )
    unknown = run_mlops("pipeline", "show", "4", "-w", str(workspace))
    assert unknown.returncode == 2 and unknown.stderr.strip() == "error: no pipeline run 4; none has run yet"
    assert mlops_json(workspace, "pipeline", "runs") == {"runs": []}
