"""The runs view: tracked runs, filtered with MLflow's syntax (plus or/parentheses) at the
source, sorted by a metric, with runs marked for comparison."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from console.widgets.filter_table import FilterableTable
from console.widgets.table_rows import selected_key, show_rows
from engine.formatting import number
from engine.types.training import Run

METRICS = ("f1", "roc_auc", "pr_auc", "accuracy", "precision", "recall", "log_loss")
STATUS_STYLES = {"FINISHED": "green", "FAILED": "red", "RUNNING": "yellow"}


class RunsView(Vertical):
    def __init__(self, *, id: str, classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.marked: list[str] = []
        self._runs: list[Run] = []

    def compose(self) -> ComposeResult:
        yield Static("Runs", id="runs-title", classes="panel-title")
        yield FilterableTable(id="runs", placeholder="metrics.f1 > 0.8 and (params.max_depth = '5' or …)")
        yield Static("", id="filter-error")

    def on_mount(self) -> None:
        self.table.add_columns("", "run", "model", "data", "status", *METRICS)

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#runs", FilterableTable).table

    def show(self, runs: list[Run], order_by: str) -> None:
        self.query_one("#runs-title", Static).update(
            f"Runs ({len(runs)} shown, sorted by {order_by}; space marks, c compares)"
        )
        self._runs = runs
        show_rows(self.table, [(run.run_id, self._row(run)) for run in runs])

    def show_filter_error(self, problem: str | None) -> None:
        self.query_one("#filter-error", Static).update(Text(problem or "", style="red"))

    def toggle_mark(self) -> None:
        """Mark the run under the cursor for comparison, or unmark it."""
        run_id = selected_key(self.table)
        if run_id is None:
            return
        if run_id in self.marked:
            self.marked.remove(run_id)
        else:
            self.marked.append(run_id)
        show_rows(self.table, [(run.run_id, self._row(run)) for run in self._runs])

    def _row(self, run: Run) -> list[Any]:
        return [
            Text("✓", style="bold green") if run.run_id in self.marked else "",
            run.run_name,
            run.model,
            run.dataset,
            Text(run.status.lower(), style=STATUS_STYLES.get(run.status, "")),
            *(number(run.metrics.get(name)) for name in METRICS),
        ]
