"""The exported Kubeflow spec's tasks really run: each task's container command, as the spec
holds it, run here in dependency order the way KFP's launcher would (an upstream task's output
parameter file handed to the next task's ``--upstream``), on a workspace holding the sample data.

The spec is compiled by kfp from .venv/kfp-sdk (see tests/engine/pipelines/test_kfp_export.py);
the tasks themselves run `mlops` from the suite's environment, as the image would.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ENV, LOOSE_GATES, MLOPS, REPO_ROOT, mlops_json, run_mlops
from tests.engine.pipelines.test_kfp_export import LAUNCHER, OUTPUT_FILE, UPSTREAM, with_kfp

SAMPLE = REPO_ROOT / "sample_data"


def run_task(spec: dict[str, Any], name: str, outputs: dict[str, Path], folder: Path) -> int:
    """Run one task's container command with its placeholders filled in, as KFP's launcher does."""
    task = spec["root"]["dag"]["tasks"][name]
    component = spec["components"][task["componentRef"]["name"]]
    container = spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]
    upstream = task.get("inputs", {}).get("parameters", {}).get("upstream")
    outputs[name] = folder / f"{name}.json"
    filled = {OUTPUT_FILE: str(outputs[name])}
    if upstream is not None:
        producer = upstream["taskOutputParameter"]["producerTask"]
        filled[UPSTREAM] = outputs[producer].read_text()
    command = [filled.get(part, part) for part in container["command"] + container["args"]]
    assert command[0] == "mlops"
    done = subprocess.run([str(MLOPS), *command[1:]], env=ENV, capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode


@pytest.mark.slow
def test_the_exported_tasks_run_the_pipeline_one_step_each(workspace: Path, tmp_path: Path) -> None:
    mlops_json(workspace, "data", "ingest", str(SAMPLE / "churn_reference.csv"), "--name", "churn")
    mlops_json(workspace, "suite", "add", str(SAMPLE / "churn_suite.json"), "--name", "churn_suite")
    (workspace / ".mlops" / "config.toml").write_text(LOOSE_GATES)  # the gate lets the sample pass
    shutil.copy(SAMPLE / "churn_pipeline.toml", workspace / "churn_pipeline.toml")
    exported = with_kfp(
        sys.executable,
        "-c",
        LAUNCHER,
        *("pipeline", "export", str(workspace / "churn_pipeline.toml"), "--format", "kfp"),
        *("--workspace-path", str(workspace), "-o", str(tmp_path / "churn.yaml")),
        cwd=tmp_path,
    )
    assert exported.returncode == 0, exported.stderr
    spec = yaml.safe_load((tmp_path / "churn.yaml").read_text())
    tasks = spec["root"]["dag"]["tasks"]

    outputs: dict[str, Path] = {}
    done: list[str] = []
    while len(done) < len(tasks):  # any order KFP could choose: a task once all it depends on ran
        name = next(
            n for n in sorted(tasks) if n not in done and set(tasks[n].get("dependentTasks", [])) <= set(done)
        )
        assert run_task(spec, name, outputs, tmp_path) == 0, name
        done.append(name)

    registered = json.loads(outputs["register"].read_text())
    trained = json.loads(outputs["train"].read_text())
    assert registered["model_name"] == "churn" and registered["version"] == 1
    assert registered["run_id"] == trained["run_id"]
    runs = mlops_json(workspace, "pipeline", "runs")["runs"]
    assert [[step["name"] for step in run["steps"]] for run in reversed(runs)] == [[n] for n in done]
    assert all(run["status"] == "succeeded" and run["pipeline"] == "churn" for run in runs)

    # A step run again on the same input is served from the workspace's cache.
    again = run_mlops(
        *("pipeline", "step", str(workspace / "churn_pipeline.toml"), "evaluate", "-w", str(workspace)),
        *("--upstream", outputs["train"].read_text(), "--json"),
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["steps"][0]["status"] == "cached"

    # A refusing gate fails its task (KFP then runs nothing below it) and writes no output.
    strict = (workspace / "churn_pipeline.toml").read_text().replace('"f1 >= 0.7"', '"f1 >= 0.99"')
    (workspace / "churn_pipeline.toml").write_text(strict)
    outputs["gate"].unlink()
    assert run_task(spec, "gate", outputs, tmp_path) == 1
    assert not outputs["gate"].exists()


def test_a_step_run_alone_says_what_it_lacks(workspace: Path) -> None:
    sample = str(SAMPLE / "churn_pipeline.toml")
    unknown = run_mlops("pipeline", "step", sample, "deploy", "-w", str(workspace))
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == (
        "error: churn_pipeline.toml: no step 'deploy'; the steps are load, validate, train, evaluate,"
        " gate, register"
    )
    alone = run_mlops("pipeline", "step", sample, "train", "-w", str(workspace))
    assert alone.returncode == 2 and "takes its input from step 'load'" in alone.stderr
    partial = run_mlops(
        "pipeline", "step", sample, "gate", "--upstream", '{"run_id": "x"}', "-w", str(workspace)
    )
    assert partial.returncode == 2 and "no 'fairness_judged'" in partial.stderr
    runs = mlops_json(workspace, "pipeline", "runs")["runs"]
    assert runs == []
