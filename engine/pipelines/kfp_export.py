"""A pipeline file as a Kubeflow Pipelines v2 pipeline spec (`mlops pipeline export --format kfp`).

Each step becomes a container component running this project's own step code in an image that
has it installed: ``mlops pipeline step FILE STEP --workspace WS`` (``Pipelines.run_step``), so a
task does on the cluster exactly what the step does in ``mlops pipeline run``. The DAG's edges
are the file's ``needs``; a step's input is its source step's output (``Step.source``), handed
over as a KFP output parameter (the step's output JSON) and read back with ``--upstream``, which
adds the source as a dependency too (it is upstream through ``needs`` already). A gate is the
task that judges: a refusing gate exits non-zero, so the run fails there and nothing below it
(register) runs.

KFP's own cache is off for every task: its key is the task's command and inputs, which do not
say what the workspace holds (``dataset = "churn"`` means the newest version), so it would
serve a stale result. The step's own cache (engine/pipelines/fingerprint.py) decides instead,
against the workspace's records, as ``mlops pipeline run`` does.

The ``kfp`` SDK (2.x) is an optional extra, imported only here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from engine.errors import MlopsError
from engine.pipelines.definition import Pipeline, Step, load_pipeline
from engine.version import __version__

DEFAULT_IMAGE = f"ghcr.io/mlops-console/mlops-console:{__version__}"
DEFAULT_WORKSPACE = "/workspace"
INSTALL_HINT = "pip install 'mlops-console[kfp]'"


def step_command(step: Step, pipeline_path: str, workspace: str) -> list[str]:
    """The fixed part of a step's container command (its upstream and output files follow)."""
    return ["mlops", "pipeline", "step", pipeline_path, step.name, "--workspace", workspace]


def export_kfp(
    path: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    image: str = DEFAULT_IMAGE,
    workspace: str = DEFAULT_WORKSPACE,
    pipeline_path: str | None = None,
    volume: str | None = None,
) -> dict[str, Any]:
    """Compile the pipeline in ``path`` to a KFP v2 IR YAML file at ``output`` (default
    ``STEM.kfp.yaml`` in the current folder). In the containers the workspace is at
    ``workspace`` and the pipeline file at ``pipeline_path`` (default: its name in the workspace);
    ``volume`` names the PersistentVolumeClaim holding the workspace, mounted there in every task
    (kfp-kubernetes); without it the spec mounts nothing and the cluster must provide it."""
    pipeline = load_pipeline(Path(path))
    compiler, dsl = _kfp()
    mount = _mount(volume, workspace) if volume else None
    target = Path(output) if output is not None else Path.cwd() / f"{Path(path).stem}.kfp.yaml"
    in_container = pipeline_path or f"{workspace.rstrip('/')}/{Path(path).name}"
    pipeline_function = _pipeline_function(dsl, pipeline, image, workspace, in_container, mount)
    target.parent.mkdir(parents=True, exist_ok=True)
    compiler.Compiler().compile(pipeline_function, package_path=str(target))
    return {
        "format": "kfp",
        "pipeline": pipeline.name,
        "output": str(target.resolve()),
        "image": image,
        "workspace": workspace,
        "pipeline_path": in_container,
        "volume": volume,
        "tasks": [
            {
                "step": step.name,
                "kind": step.kind,
                "needs": list(step.needs),
                "input_from": step.source or None,
                "command": step_command(step, in_container, workspace),
            }
            for step in pipeline.steps
        ],
    }


def _kfp() -> tuple[Any, Any]:
    try:
        from kfp import compiler, dsl
    except ImportError:
        raise MlopsError(f"--format kfp needs the Kubeflow Pipelines SDK: {INSTALL_HINT}") from None
    return compiler, dsl


def _mount(volume: str, workspace: str) -> Any:
    try:
        from kfp import kubernetes
    except ImportError:
        raise MlopsError(f"--volume needs kfp-kubernetes: {INSTALL_HINT}") from None
    return lambda task: kubernetes.mount_pvc(task, pvc_name=volume, mount_path=workspace)


def _pipeline_function(
    dsl: Any, pipeline: Pipeline, image: str, workspace: str, file: str, mount: Any
) -> Any:
    components = {step.name: _component(dsl, step, image, workspace, file) for step in pipeline.steps}

    def run_pipeline() -> None:
        tasks: dict[str, Any] = {}
        for step in pipeline.steps:  # in an order where each step follows what it needs
            component = components[step.name]
            upstream = {"upstream": tasks[step.source].outputs["output"]} if step.source else {}
            task = component(**upstream)
            task.set_display_name(step.name)
            task.set_caching_options(False)
            if mount is not None:
                mount(task)
            for need in step.needs:
                if need != step.source:  # a data dependency is an edge already
                    task.after(tasks[need])
            tasks[step.name] = task

    run_pipeline.__name__ = _k8s_name(pipeline.name)
    run_pipeline.__annotations__ = {}  # KFP reads a return annotation as the pipeline's output
    run_pipeline.__doc__ = f"The {pipeline.name} pipeline ({Path(pipeline.path).name}), steps run by mlops."
    return dsl.pipeline(name=_k8s_name(pipeline.name), description=run_pipeline.__doc__)(run_pipeline)


def _component(dsl: Any, step: Step, image: str, workspace: str, file: str) -> Any:
    """A container component running one step; it takes ``upstream`` when the step has a source."""
    command = step_command(step, file, workspace)
    if step.source:

        def with_input(upstream: str, output: str) -> Any:
            return dsl.ContainerSpec(
                image=image,
                command=command,
                args=["--upstream", upstream, "--output-file", output],
            )

        function: Any = with_input
        function.__annotations__ = {
            "upstream": str,
            "output": dsl.OutputPath(str),
        }
    else:

        def without_input(output: str) -> Any:
            return dsl.ContainerSpec(image=image, command=command, args=["--output-file", output])

        function = without_input
        function.__annotations__ = {"output": dsl.OutputPath(str)}
    function.__name__ = _k8s_name(step.name)
    source = f", reading step {step.source}'s output" if step.source else ""
    function.__doc__ = f"The {step.kind} step {step.name!r} of pipeline {file}{source}."
    return dsl.container_component(function)


def _k8s_name(name: str) -> str:
    """A name as KFP keeps it: lower case, other characters as dashes."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
