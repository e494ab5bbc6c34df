"""A pipeline run drawn as its DAG: steps in columns by depth, left to right, arrows between.

Each step is a box coloured by its status, with its duration, whether it came from cache,
and a gate's verdicts (or the step's one-line result). Steps at the same depth stack in one
column; a step that needs more than the column before it says what it runs after. Where the
boxes would be too narrow to read (an 80-column terminal), the DAG collapses to one chain of
step names and marks; the steps table under it has the details.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
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
MIN_BOX_WIDTH = 16  # narrower boxes cut every line: the DAG is drawn as a chain instead
ARROW_WIDTH = 2


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


class Dag:
    """A run's DAG as boxes where they fit the width it is drawn in, else as a chain."""

    def __init__(self, record: PipelineRunRecord) -> None:
        self.columns = columns_by_depth(record.steps)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        count = len(self.columns)
        if options.max_width < count * MIN_BOX_WIDTH + (count - 1) * ARROW_WIDTH:
            yield render_chain(self.columns)
        else:
            yield render_boxes(self.columns)


def render_chain(columns: list[list[StepRecord]]) -> Text:
    """``✓ load ▶ ✓ validate ▶ ✓ a + ✓ b ▶ ✗ gate``: each step's mark and name in its colour."""
    chain = Text()
    for index, column in enumerate(columns):
        if index:
            chain.append(" ▶ ", style="dim")
        for position, step in enumerate(column):
            if position:
                chain.append(" + ", style="dim")
            chain.append(f"{step.mark}\u00a0{step.name}", style=STATUS_STYLES.get(step.status, ""))
    return chain


def render_boxes(columns: list[list[StepRecord]]) -> RenderableType:
    grid = Table.grid(expand=True)
    cells: list[RenderableType] = []
    before: set[str] = set()
    for index, column in enumerate(columns):
        grid.add_column(ratio=1)
        cells.append(Group(*(step_box(step, before) for step in column)))
        before = {step.name for step in column}
        if index < len(columns) - 1:
            grid.add_column(width=ARROW_WIDTH)
            cells.append(Text("\n\n▶", style="dim"))
    grid.add_row(*cells)
    return grid


class PipelineDag(Static):
    """Shows one pipeline run's DAG; ``show(None)`` says how to start one."""

    def show(self, record: PipelineRunRecord | None) -> None:
        if record is None:
            self.update(Text("No pipeline runs yet: press x to run a pipeline file.", style="dim"))
        else:
            self.update(Dag(record))
