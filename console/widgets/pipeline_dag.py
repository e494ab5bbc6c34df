"""A pipeline run drawn as its DAG: steps in columns by depth, left to right, arrows between.

Each step is a box coloured by its status, with its duration, whether it came from cache,
and a gate's verdicts (or the step's one-line result). Steps at the same depth stack in one
column; a step that needs more than the column before it says what it runs after.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from engine.types.pipelines import PipelineRunRecord, StepRecord

STATUS_STYLES = {
    "pending": "dim",
    "running": "bold yellow",
    "succeeded": "green",
    "cached": "cyan",
    "failed": "bold red",
    "skipped": "dim",
}


def columns_by_depth(steps: list[StepRecord]) -> list[list[StepRecord]]:
    """Steps grouped by their longest distance from a first step (steps come in run order)."""
    depth: dict[str, int] = {}
    for step in steps:
        depth[step.name] = 1 + max((depth[need] for need in step.needs if need in depth), default=-1)
    columns: list[list[StepRecord]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for step in steps:
        columns[depth[step.name]].append(step)
    return columns


def step_box(step: StepRecord, before: set[str]) -> Panel:
    style = STATUS_STYLES.get(step.status, "")
    body = Text(f"{step.mark} {step.status}", style=style)
    if step.duration_seconds is not None:
        body.append(f"  {step.duration_seconds:.2f} s", style="")
    if step.status == "cached":
        body.append("\ncache hit", style="cyan")
    if set(step.needs) - before:
        body.append(f"\nafter {', '.join(step.needs)}", style="dim")
    for verdict in step.verdicts:
        body.append(
            f"\n{'✓' if verdict.passed else '✗'} {verdict.check}", style="green" if verdict.passed else "red"
        )
    if not step.verdicts and step.summary:
        body.append(f"\n{step.summary}", style="red" if step.status == "failed" else "dim")
    title = step.name if step.name == step.kind else f"{step.name} ({step.kind})"
    return Panel(body, title=title, title_align="left", border_style=style or "white")


def render_dag(record: PipelineRunRecord) -> RenderableType:
    columns = columns_by_depth(record.steps)
    grid = Table.grid(expand=True)
    cells: list[RenderableType] = []
    before: set[str] = set()
    for index, column in enumerate(columns):
        grid.add_column(ratio=1)
        cells.append(Group(*(step_box(step, before) for step in column)))
        before = {step.name for step in column}
        if index < len(columns) - 1:
            grid.add_column(width=2)
            cells.append(Text("\n\n▶", style="dim"))
    grid.add_row(*cells)
    return grid


class PipelineDag(Static):
    """Shows one pipeline run's DAG; ``show(None)`` says how to start one."""

    def show(self, record: PipelineRunRecord | None) -> None:
        if record is None:
            self.update(Text("No pipeline runs yet: press x to run a pipeline file.", style="dim"))
        else:
            self.update(render_dag(record))
