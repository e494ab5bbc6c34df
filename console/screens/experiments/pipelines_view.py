"""The pipelines view: recorded pipeline runs, and the selected run's DAG and steps with each
step's status, duration, cache hit and gate verdicts, updated live while a pipeline runs."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from console.widgets.filter_table import FilterableTable
from console.widgets.pipeline_dag import STATUS_STYLES, PipelineDag
from console.widgets.table_rows import Row, show_rows
from engine.types.pipelines import PipelineRunRecord


class PipelinesView(Vertical):
    def __init__(self, *, id: str, classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.selected_run: int | None = None  # None: follow the newest run
        self._records: list[PipelineRunRecord] = []

    def compose(self) -> ComposeResult:
        yield Static("Pipeline runs", id="pipelines-title", classes="panel-title")
        yield FilterableTable(id="pipeline-runs", placeholder="pipeline name or status…")
        yield PipelineDag(id="pipeline-dag")
        yield DataTable(id="pipeline-steps", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.runs_table.add_columns("run", "pipeline", "status", "started", "took", "steps", "reason")
        self.query_one("#pipeline-steps", DataTable).add_columns("step", "kind", "status", "took", "result")

    @property
    def runs_table(self) -> DataTable[Any]:
        return self.query_one("#pipeline-runs", FilterableTable).table

    @property
    def last_path(self) -> str | None:
        """The file of the newest run shown, to offer when running a pipeline again."""
        return self._records[0].path if self._records else None

    def show(self, records: list[PipelineRunRecord]) -> None:
        self.query_one("#pipelines-title", Static).update(
            f"Pipeline runs ({len(records)} shown; x runs a pipeline file, p back to runs)"
        )
        self._records = records
        ids = [record.id for record in records]
        if self.selected_run not in ids:
            self.selected_run = ids[0] if ids else None
        show_rows(
            self.runs_table,
            [(str(record.id), _run_row(record)) for record in records],
            select=str(self.selected_run) if self.selected_run is not None else None,
        )
        self._show_selected()

    def follow_newest(self) -> None:
        """Show the newest run (the one a pipeline started here is running) from the next refresh."""
        self.selected_run = None

    def select(self, run_id: int) -> None:
        self.selected_run = run_id

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self.runs_table and event.row_key.value:
            self.selected_run = int(event.row_key.value)
            self._show_selected()

    def _show_selected(self) -> None:
        record = next((r for r in self._records if r.id == self.selected_run), None)
        self.query_one("#pipeline-dag", PipelineDag).show(record)
        show_rows(self.query_one("#pipeline-steps", DataTable), _step_rows(record) if record else [])


def _run_row(record: PipelineRunRecord) -> list[Any]:
    return [
        str(record.id),
        record.pipeline,
        Text(record.status, style=STATUS_STYLES.get(record.status, "")),
        record.started_at.strftime("%Y-%m-%d %H:%M:%S"),
        _seconds(record.duration_seconds),
        f"{record.ran} ran, {record.cache_hits} cached",
        record.reason or "",
    ]


def _step_rows(record: PipelineRunRecord) -> list[Row]:
    """A row per step, then a row per verdict of a gate under it."""
    rows: list[Row] = []
    for step in record.steps:
        status = Text(f"{step.mark} {step.status}", style=STATUS_STYLES[step.status])
        rows.append(
            (step.name, [step.name, step.kind, status, _seconds(step.duration_seconds), step.summary])
        )
        for index, verdict in enumerate(step.verdicts):
            mark = Text(
                "  ✓ pass" if verdict.passed else "  ✗ fail", style="green" if verdict.passed else "red"
            )
            rows.append((f"{step.name}/{index}", ["", "", mark, "", f"{verdict.check}: {verdict.detail}"]))
    return rows


def _seconds(value: float | None) -> str:
    return f"{value:.2f} s" if value is not None else ""
