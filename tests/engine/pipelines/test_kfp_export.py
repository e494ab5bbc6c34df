"""`mlops pipeline export --format kfp`: the sample pipeline compiled by the Kubeflow Pipelines SDK,
its DAG checked against the TOML it came from, and the spec loaded back by kfp.

kfp is an optional extra that cannot share the suite's environment (it pins protobuf < 7):
`make test` installs it apart, in .venv/kfp-sdk (tests/kfp-sdk.txt), and these tests run the
export in a subprocess with that folder first on its path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.pipelines.definition import load_pipeline
from tests.conftest import ENV, REPO_ROOT

KFP_SDK = Path(sys.prefix) / "kfp-sdk"
SAMPLE = REPO_ROOT / "sample_data" / "churn_pipeline.toml"
IMAGE = "registry.example/mlops-console:test"
UPSTREAM = "{{$.inputs.parameters['upstream']}}"
OUTPUT_FILE = "{{$.outputs.parameters['output'].output_file}}"
LAUNCHER = "import sys; from console.launcher import main; sys.argv[0] = 'mlops'; main()"


def with_kfp(*command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**ENV, "PYTHONPATH": str(KFP_SDK)}
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    assert (KFP_SDK / "kfp").is_dir(), "make test installs the kfp SDK in .venv/kfp-sdk (tests/kfp-sdk.txt)"
    folder = tmp_path_factory.mktemp("kfp")
    done = with_kfp(
        sys.executable,
        "-c",
        LAUNCHER,
        *("pipeline", "export", str(SAMPLE), "--format", "kfp", "--image", IMAGE, "-o", "churn.yaml"),
        *("--volume", "mlops-workspace"),
        "--json",
        cwd=folder,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    # The pipeline spec, then the Kubernetes platform spec (the volume), as KFP writes them.
    spec, platform = yaml.safe_load_all((folder / "churn.yaml").read_text())
    return result, {**spec, **platform}


def test_the_spec_has_the_pipelines_steps_edges_images_and_commands(
    exported: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    result, spec = exported
    pipeline = load_pipeline(SAMPLE)
    assert spec["pipelineInfo"]["name"] == "churn" and spec["sdkVersion"].startswith("kfp-2.")
    tasks = {task["taskInfo"]["name"]: task for task in spec["root"]["dag"]["tasks"].values()}
    assert list(tasks) != [] and set(tasks) == {step.name for step in pipeline.steps}
    executors = spec["deploymentSpec"]["executors"]
    for step in pipeline.steps:
        task = tasks[step.name]
        # The TOML's needs, plus the step it reads its input from (upstream through needs anyway).
        expected = set(step.needs) | ({step.source} if step.source else set())
        assert set(task.get("dependentTasks", [])) == expected, step.name
        assert not task["cachingOptions"].get("enableCache"), "the step's own cache decides"
        component = spec["components"][task["componentRef"]["name"]]
        container = executors[component["executorLabel"]]["container"]
        assert container["image"] == IMAGE
        assert container["command"] == [
            *("mlops", "pipeline", "step", "/workspace/churn_pipeline.toml", step.name),
            *("--workspace", "/workspace"),
        ]
        if step.source:
            assert container["args"] == ["--upstream", UPSTREAM, "--output-file", OUTPUT_FILE]
            producer = task["inputs"]["parameters"]["upstream"]["taskOutputParameter"]
            assert tasks[step.source]["taskInfo"]["name"] == step.source
            assert producer == {"outputParameterKey": "output", "producerTask": step.source}
        else:
            assert container["args"] == ["--output-file", OUTPUT_FILE]
    # Every task mounts the workspace's volume where its command looks for the workspace.
    mounts = spec["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert set(mounts) == set(executors)
    for mount in mounts.values():
        assert [(m["constant"], m["mountPath"]) for m in mount["pvcMount"]] == [
            ("mlops-workspace", "/workspace")
        ]
    # The sample's chain: register reads train's run but runs only after the gate passed.
    assert set(tasks["register"]["dependentTasks"]) == {"gate", "train"}
    assert [task["step"] for task in result["tasks"]] == [step.name for step in pipeline.steps]
    assert result["image"] == IMAGE and result["pipeline_path"] == "/workspace/churn_pipeline.toml"


def test_kfp_loads_the_spec_back(exported: tuple[dict[str, Any], dict[str, Any]]) -> None:
    result, _ = exported
    script = (
        "import json, sys\n"
        "from kfp.components import load_component_from_file\n"
        "component = load_component_from_file(sys.argv[1])\n"
        "spec = component.pipeline_spec\n"
        "tasks = {name: sorted(task.dependent_tasks) for name, task in spec.root.dag.tasks.items()}\n"
        "print(json.dumps({'name': component.name, 'tasks': tasks}))\n"
    )
    done = with_kfp(sys.executable, "-c", script, result["output"], cwd=Path(result["output"]).parent)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert loaded["name"] == "churn"
    assert loaded["tasks"] == {
        "load": [],
        "validate": ["load"],
        "train": ["load", "validate"],
        "evaluate": ["train"],
        "gate": ["evaluate"],
        "register": ["gate", "train"],
    }


def test_without_the_extra_the_error_says_how_to_install_it(tmp_path: Path) -> None:
    blocked = "import sys; sys.modules['kfp'] = None; " + LAUNCHER  # as if kfp were not installed
    environment = {key: value for key, value in ENV.items() if key != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", blocked, "pipeline", "export", str(SAMPLE), "--format", "kfp"],
        cwd=tmp_path,
        env={**environment, "PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: --format kfp needs the Kubeflow Pipelines SDK: pip install 'mlops-console[kfp]'"
    ]
    assert list(tmp_path.iterdir()) == []
