"""``mlops pipeline run/runs/show/step/export``: pipelines with cached steps and gates; one step
run on its own (a cluster's task), a pipeline exported as a Kubeflow Pipelines spec."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.cli.common import client_path, opened, styled, table
from engine.cli.output import Output
from engine.cli.progress import progress_bar
from engine.errors import InvalidInput
from engine.formatting import number
from engine.types.pipelines import PipelineRunRecord

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

STATUS_STYLES = {"succeeded": "green", "cached": "cyan", "failed": "red", "interrupted": "red"}


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    pipeline = commands.add_parser("pipeline", parents=[common], help="pipelines: cached steps with gates")
    verbs = pipeline.add_subparsers(title="pipeline commands", metavar="VERB", required=True)

    run = verbs.add_parser(
        "run", parents=[common], help="run a pipeline file; unchanged steps come from cache"
    )
    run.add_argument(
        "file",
        metavar="FILE",
        type=client_path,
        help="a pipeline TOML file (see sample_data/churn_pipeline.toml)",
    )
    run.add_argument("--force", action="store_true", help="ignore the cache and run every step")
    run.set_defaults(handler=run_pipeline)

    runs = verbs.add_parser("runs", parents=[common], help="recorded pipeline runs, newest first")
    runs.add_argument("--pipeline", help="only runs of this pipeline")
    runs.add_argument("--limit", type=int, default=20)
    runs.set_defaults(handler=list_runs)

    show = verbs.add_parser(
        "show", parents=[common], help="one pipeline run: steps, cache hits, gate verdicts"
    )
    show.add_argument("run", metavar="RUN", type=_run_number, help="the run's number (see `pipeline runs`)")
    show.set_defaults(handler=show_run)

    step = verbs.add_parser(
        "step",
        parents=[common],
        help="run one step of a pipeline file on its own (what a Kubeflow task runs)",
    )
    step.add_argument("file", metavar="FILE", type=client_path, help="a pipeline TOML file")
    step.add_argument("step", metavar="STEP", help="the step's name ([steps.NAME] in the file)")
    step.add_argument(
        "--upstream",
        type=_json_object,
        metavar="JSON",
        help="the output of the step this one takes its input from (as that step's --output-file holds it)",
    )
    step.add_argument(
        "--output-file",
        type=client_path,
        metavar="PATH",
        help="write the step's output here as JSON (a Kubeflow output parameter)",
    )
    step.add_argument("--force", action="store_true", help="ignore the cache and run the step")
    step.set_defaults(handler=run_step)

    export = verbs.add_parser(
        "export", parents=[common], help="a pipeline file as a Kubeflow Pipelines v2 spec (IR YAML)"
    )
    export.add_argument("file", metavar="FILE", type=client_path, help="a pipeline TOML file")
    export.add_argument("--format", required=True, choices=["kfp"], help="kfp: Kubeflow Pipelines v2")
    export.add_argument(
        "--output", "-o", type=client_path, metavar="OUT", help="the spec to write (default: STEM.kfp.yaml)"
    )
    export.add_argument(
        "--image",
        help="the image each step runs in, with mlops-console installed"
        " (default: ghcr.io/mlops-console/mlops-console:VERSION)",
    )
    export.add_argument(
        "--workspace-path",
        metavar="DIR",
        help="where the workspace volume is mounted in the containers (default: /workspace)",
    )
    export.add_argument(
        "--pipeline-path",
        metavar="PATH",
        help="where the pipeline file is in the containers (default: its name in the workspace)",
    )
    export.add_argument(
        "--volume",
        metavar="PVC",
        help="the PersistentVolumeClaim holding the workspace, mounted at --workspace-path in every task",
    )
    export.set_defaults(handler=export_pipeline)


def _run_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a pipeline run number; expected e.g. 3") from None


def run_pipeline(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "pipeline run") as engine, progress_bar(out) as report:
        record = engine.pipelines.run(args.file, force=args.force, progress=report)
    out.emit(record.to_dict(), lambda console: render_run(console, record))
    return 0 if record.status == "succeeded" else 1


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"{text[:60]!r} is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"{text[:60]!r}: expected a JSON object, the upstream step's output")
    return value


def run_step(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "pipeline step") as engine, progress_bar(out) as report:
        record = engine.pipelines.run_step(args.file, args.step, args.upstream, args.force, report)
    finished = record.steps[0]
    if args.output_file and record.status == "succeeded":
        try:
            Path(args.output_file).write_text(json.dumps(finished.output, default=str))
        except OSError as error:
            raise InvalidInput(f"--output-file {args.output_file}: cannot write it: {error}") from None
    out.emit(record.to_dict(), lambda console: render_run(console, record))
    return 0 if record.status == "succeeded" else 1


def export_pipeline(args: argparse.Namespace, out: Output) -> int:
    from engine.facade import Engine

    output = args.output or client_path(f"{Path(args.file).stem}.kfp.yaml")
    result = Engine.export_pipeline(
        args.file,
        output,
        image=args.image,
        workspace=args.workspace_path,
        pipeline_path=args.pipeline_path,
        volume=args.volume,
    )

    def render(console: Console) -> None:
        console.print(
            f"Wrote {result['output']}: pipeline {result['pipeline']}, {len(result['tasks'])} tasks"
            f" in {result['image']}, workspace at {result['workspace']}",
            markup=False,
            highlight=False,
        )
        rows = [
            [task["step"], task["kind"], ", ".join(task["needs"]), " ".join(task["command"])]
            for task in result["tasks"]
        ]
        table(console, ["task", "kind", "after", "command"], rows)

    out.emit(result, render)
    return 0


def list_runs(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "pipeline runs") as engine:
        records = engine.pipelines.runs(args.limit, args.pipeline)
    rows = [
        [
            str(record.id),
            record.pipeline,
            _status(record.status),
            record.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            _seconds(record.duration_seconds),
            f"{record.ran} ran, {record.cache_hits} cached",
            record.reason or "",
        ]
        for record in records
    ]
    headers = ["run", "pipeline", "status", "started", "took", "steps", "reason"]
    out.emit(
        {"runs": [record.to_dict() for record in records]},
        lambda console: table(
            console, headers, rows, empty="no pipeline runs yet; try `mlops pipeline run FILE`"
        ),
    )
    return 0


def show_run(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "pipeline show") as engine:
        record = engine.pipelines.get(args.run)
    out.emit(record.to_dict(), lambda console: render_run(console, record))
    return 0


def render_run(console: Console, record: PipelineRunRecord) -> None:
    from rich.text import Text

    forced = " (forced)" if record.forced else ""
    console.print(
        Text.assemble(
            (f"Pipeline {record.pipeline}", "bold"),
            f" run {record.id}{forced}: ",
            _status(record.status),
            f" in {_seconds(record.duration_seconds)}, {record.cache_hits} of {len(record.steps)} steps"
            " from cache",
        )
    )
    rows = [
        [
            step.name,
            step.kind,
            _status(step.status, f"{step.mark} "),
            _seconds(step.duration_seconds),
            ", ".join(step.needs),
            step.summary,
        ]
        for step in record.steps
    ]
    table(console, ["step", "kind", "status", "took", "needs", "result"], rows)
    for step in record.steps:
        if step.verdicts:
            verdicts = [
                [
                    styled("[green]✓ pass[/]" if v.passed else "[red]✗ fail[/]"),
                    v.check,
                    number(v.value),
                    v.detail,
                ]
                for v in step.verdicts
            ]
            table(console, [f"gate {step.name}", "check", "value", "detail"], verdicts)
    if record.reason:
        console.print(record.reason, style="red", markup=False)


def _status(status: str, prefix: str = "") -> Text:
    from rich.text import Text

    return Text(prefix + status, style=STATUS_STYLES.get(status, ""))


def _seconds(value: float | None) -> str:
    return f"{value:.2f} s" if value is not None else ""
