"""Experiments: tracked runs, filtered with MLflow's syntax (plus or/parentheses) and sorted
by any metric; a form that trains a new run with progress and a live log; a compare view;
and (``p``) the pipelines view: recorded pipeline runs, the selected run's DAG with each
step's status, duration, cache hit and gate verdicts, updated live while a pipeline runs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, DataTable, ProgressBar, RichLog, Static

from console.messages import (
    FilterChanged,
    PipelineFinished,
    RunFinished,
    RunsCompared,
    SweepFinished,
    WorkProgressed,
)
from console.screens.base import ConsoleScreen
from console.screens.run_compare import CompareScreen
from console.widgets.dialogs import Field, FormDialog
from console.widgets.filter_table import FilterableTable
from console.widgets.pipeline_dag import STATUS_STYLES, PipelineDag
from engine.errors import InvalidInput
from engine.facade import Engine
from engine.formatting import number
from engine.pipelines.records import STATUS_MARKS, PipelineRunRecord
from engine.status import WorkspaceStatus
from engine.training.run_filter import Run, parse_filter
from engine.training.runs import LOWER_IS_BETTER

METRICS = ("f1", "roc_auc", "pr_auc", "accuracy", "precision", "recall", "log_loss")
SHOWN_RUNS = 500
SHOWN_PIPELINE_RUNS = 50
SAMPLE_PIPELINE = Path("sample_data") / "churn_pipeline.toml"
RUNS_ONLY_ACTIONS = {"mark", "compare", "sort"}


@dataclass(frozen=True)
class ExperimentsData:
    """What one refresh loaded: the runs, or the pipeline runs, for the view shown."""

    runs: list[Run] | None = None
    pipeline_runs: list[PipelineRunRecord] | None = None


class ExperimentsScreen(ConsoleScreen):
    MODE: ClassVar[str] = "experiments"
    TITLE: ClassVar[str] = "Experiments"
    CSS_PATH = "experiments.tcss"
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("n", "new_run", "New run"),
        Binding("w", "sweep", "Sweep"),
        Binding("space", "mark", "Mark for compare"),
        Binding("c", "compare", "Compare marked"),
        Binding("s", "sort", "Sort by next metric"),
        Binding("p", "toggle_view", "Runs/Pipelines"),
        Binding("x", "run_pipeline", "Run pipeline"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.order_by = "metrics.f1 DESC"
        self.marked: list[str] = []
        self._runs: list[Run] = []
        self._pipeline_runs: list[PipelineRunRecord] = []
        self.selected_pipeline_run: int | None = None

    def compose_body(self) -> ComposeResult:
        with Vertical(id="experiments-body"):
            with ContentSwitcher(initial="runs-panel", id="views"):
                with Vertical(classes="panel", id="runs-panel"):
                    yield Static("Runs", id="runs-title", classes="panel-title")
                    yield FilterableTable(
                        id="runs", placeholder="metrics.f1 > 0.8 and (params.max_depth = '5' or …)"
                    )
                    yield Static("", id="filter-error")
                with Vertical(classes="panel", id="pipelines-panel"):
                    yield Static("Pipeline runs", id="pipelines-title", classes="panel-title")
                    yield FilterableTable(id="pipeline-runs", placeholder="pipeline name or status…")
                    yield PipelineDag(id="pipeline-dag")
                    yield DataTable(id="pipeline-steps", cursor_type="row", zebra_stripes=True)
            with Vertical(classes="panel", id="training"):
                yield Static("Training", classes="panel-title")
                yield ProgressBar(id="train-progress", total=1.0, show_eta=False)
                yield RichLog(id="train-log", max_lines=300, wrap=True)

    def on_mount(self) -> None:
        self.query_one("#runs", FilterableTable).table.add_columns(
            "", "run", "model", "data", "status", *METRICS
        )
        self.query_one("#pipeline-runs", FilterableTable).table.add_columns(
            "run", "pipeline", "status", "started", "took", "steps", "reason"
        )
        self.query_one("#pipeline-steps", DataTable).add_columns("step", "kind", "status", "took", "result")

    @property
    def showing_pipelines(self) -> bool:
        return self.query_one("#views", ContentSwitcher).current == "pipelines-panel"

    def action_toggle_view(self) -> None:
        switcher = self.query_one("#views", ContentSwitcher)
        switcher.current = "runs-panel" if self.showing_pipelines else "pipelines-panel"
        table_id = "pipeline-runs" if self.showing_pipelines else "runs"
        self.query_one(f"#{table_id}", FilterableTable).table.focus()
        self.refresh_bindings()
        self.refresh_now()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Marking, comparing and sorting runs belong to the runs view only."""
        return not (action in RUNS_ONLY_ACTIONS and self.is_mounted and self.showing_pipelines)

    def load_live_data(self, engine: Engine) -> ExperimentsData:
        if self.showing_pipelines:
            contains = self.filters.get("pipeline-runs", "")
            return ExperimentsData(
                pipeline_runs=engine.pipelines.records.runs(SHOWN_PIPELINE_RUNS, contains=contains)
            )
        return ExperimentsData(
            runs=engine.runs.search(None, self.filters.get("runs", ""), self.order_by, SHOWN_RUNS)
        )

    def show_live_data(self, status: WorkspaceStatus, data: ExperimentsData) -> None:
        if data.pipeline_runs is not None:
            self._show_pipeline_runs(data.pipeline_runs)
        if data.runs is not None:
            self._show_runs(data.runs)

    # -- the runs table -------------------------------------------------------------------------

    def _show_runs(self, runs: list[Run]) -> None:
        self.query_one("#runs-title", Static).update(
            f"Runs ({len(runs)} shown, sorted by {self.order_by}; space marks, c compares)"
        )
        if runs == self._runs:
            return
        self._runs = runs
        self._fill(runs)

    def _fill(self, runs: list[Run]) -> None:
        table = self.query_one("#runs", FilterableTable).table
        cursor = table.cursor_row
        table.clear()
        for run in runs:
            run_id = run.attributes["run_id"]
            mark = Text("✓", style="bold green") if run_id in self.marked else ""
            data = f"{run.tags.get('mlops.dataset', '')}@v{run.tags.get('mlops.dataset_version', '?')}"
            table.add_row(
                mark,
                run.attributes["run_name"],
                run.tags.get("mlops.model", ""),
                data,
                _status(run.attributes["status"]),
                *(number(run.metrics.get(name)) for name in METRICS),
                key=run_id,
            )
        if runs:
            table.move_cursor(row=min(cursor, len(runs) - 1))

    def on_filter_changed(self, message: FilterChanged) -> None:
        """Only a filter that parses reaches the engine (ConsoleScreen's handler runs after this
        one); while typing, the error is shown instead."""
        if message.table_id != "runs":
            return
        error = self.query_one("#filter-error", Static)
        try:
            parse_filter(message.text)
        except InvalidInput as problem:
            error.update(Text(str(problem), style="red"))
            message.prevent_default()
            return
        error.update("")

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        name = str(event.label)
        if name in METRICS:
            self._sort_by(name)

    def action_sort(self) -> None:
        current = self.order_by.split()[0].removeprefix("metrics.")
        following = METRICS[(METRICS.index(current) + 1) % len(METRICS)] if current in METRICS else METRICS[0]
        self._sort_by(following)

    def _sort_by(self, metric: str) -> None:
        self.order_by = f"metrics.{metric} {'ASC' if metric in LOWER_IS_BETTER else 'DESC'}"
        self.refresh_now()

    def action_mark(self) -> None:
        table = self.query_one("#runs", FilterableTable).table
        if not self._runs:
            return
        run_id = self._runs[table.cursor_row].attributes["run_id"]
        if run_id in self.marked:
            self.marked.remove(run_id)
        else:
            self.marked.append(run_id)
        self._fill(self._runs)

    # -- pipelines -------------------------------------------------------------------------------

    def _show_pipeline_runs(self, records: list[PipelineRunRecord]) -> None:
        self.query_one("#pipelines-title", Static).update(
            f"Pipeline runs ({len(records)} shown; x runs a pipeline file, p back to runs)"
        )
        if records != self._pipeline_runs:
            self._pipeline_runs = records
            table = self.query_one("#pipeline-runs", FilterableTable).table
            table.clear()
            for record in records:
                table.add_row(
                    str(record.id),
                    record.pipeline,
                    Text(record.status, style=STATUS_STYLES.get(record.status, "")),
                    record.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                    _seconds(record.duration_seconds),
                    f"{record.ran} ran, {record.cache_hits} cached",
                    record.reason or "",
                    key=str(record.id),
                )
            ids = [record.id for record in records]
            if self.selected_pipeline_run in ids:
                table.move_cursor(row=ids.index(self.selected_pipeline_run))
        self._show_selected_pipeline_run()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.parent is self.query_one("#pipeline-runs") and event.row_key.value:
            self.selected_pipeline_run = int(event.row_key.value)
            self._show_selected_pipeline_run()

    def _show_selected_pipeline_run(self) -> None:
        records = {record.id: record for record in self._pipeline_runs}
        if self.selected_pipeline_run not in records:
            self.selected_pipeline_run = self._pipeline_runs[0].id if self._pipeline_runs else None
        record = records.get(self.selected_pipeline_run) if self.selected_pipeline_run else None
        self.query_one("#pipeline-dag", PipelineDag).show(record)
        steps = self.query_one("#pipeline-steps", DataTable)
        steps.clear()
        for step in record.steps if record else []:
            status = Text(f"{STATUS_MARKS[step.status]} {step.status}", style=STATUS_STYLES[step.status])
            steps.add_row(step.name, step.kind, status, _seconds(step.duration_seconds), step.summary)
            for verdict in step.verdicts:
                mark = Text(
                    "  ✓ pass" if verdict.passed else "  ✗ fail", style="green" if verdict.passed else "red"
                )
                steps.add_row("", "", mark, "", f"{verdict.check}: {verdict.detail}")

    def action_run_pipeline(self) -> None:
        last_run = self._pipeline_runs[0].path if self._pipeline_runs else None
        sample = str(SAMPLE_PIPELINE) if SAMPLE_PIPELINE.is_file() else ""
        fields = [
            Field("path", "Pipeline file", value=last_run or sample, placeholder="path/to/pipeline.toml"),
            Field("force", "Ignore the cache and run every step? (yes/no)", value="no"),
        ]
        self.app.push_screen(FormDialog("Run a pipeline", fields, "Run"), self._start_pipeline)

    def _start_pipeline(self, values: dict[str, str] | None) -> None:
        if values is None:
            return
        force = values["force"].strip().lower()
        if force not in ("yes", "no", "y", "n"):
            self.app.notify(
                f"force {force!r}: expected yes or no", title="Pipeline not started", severity="error"
            )
            return
        if not self.showing_pipelines:
            self.action_toggle_view()
        self.query_one("#training").add_class("-active")
        self.query_one("#train-log", RichLog).write(f"pipeline {values['path']}")
        self._run_pipeline(values["path"], force.startswith("y"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="pipeline")
    def _run_pipeline(self, path: str, force: bool) -> None:
        def report(stage: str, fraction: float | None) -> None:
            self.report_progress(stage, fraction)
            self.app.call_from_thread(self._follow_latest_pipeline_run)

        self.post_message(PipelineFinished(self.engine.pipelines.run(path, force=force, progress=report)))

    def _follow_latest_pipeline_run(self) -> None:
        self.selected_pipeline_run = None  # the newest run, the one running
        self.refresh_now()

    def on_pipeline_finished(self, message: PipelineFinished) -> None:
        record = message.record
        summary = (
            f"pipeline {record.pipeline} run {record.id} {record.status}: "
            f"{record.ran} ran, {record.cache_hits} from cache"
        )
        failed = record.status != "succeeded"
        self.query_one("#train-log", RichLog).write(
            Text(summary + (f"; {record.reason}" if failed else ""), style="red" if failed else "green")
        )
        self.app.notify(
            record.reason or summary,
            title=f"Pipeline {record.status}",
            severity="error" if failed else "information",
        )
        self.selected_pipeline_run = record.id
        self.refresh_now()

    # -- compare ---------------------------------------------------------------------------------

    def action_compare(self) -> None:
        if len(self.marked) < 2:
            self.app.notify("Mark at least two runs with space first", severity="warning")
            return
        self._compare(list(self.marked))

    @work(thread=True, exclusive=True, exit_on_error=False, group="compare")
    def _compare(self, run_ids: list[str]) -> None:
        self.post_message(RunsCompared(self.engine.runs.compare(run_ids)))

    def on_runs_compared(self, message: RunsCompared) -> None:
        self.app.push_screen(CompareScreen(message.comparison))

    # -- a new run -------------------------------------------------------------------------------

    def action_new_run(self) -> None:
        fields = [
            Field("dataset", "Dataset (NAME or NAME@vN)", placeholder="churn"),
            Field("target", "Target column", placeholder="churned"),
            Field(
                "model",
                "Model",
                value="random_forest",
                placeholder="logistic_regression, random_forest, gradient_boosting, hist_gradient_boosting",
            ),
            Field("features", "Features (optional, comma-separated)", required=False),
            Field(
                "params", "Parameters (optional)", placeholder="n_estimators=200,max_depth=10", required=False
            ),
        ]
        self.app.push_screen(FormDialog("Train a new run", fields, "Train"), self._start_run)

    def _start_run(self, values: dict[str, str] | None) -> None:
        if values is None:
            return
        from engine.training.trainer import TrainRequest

        params = dict(item.split("=", 1) for item in values["params"].split(",") if "=" in item)
        features = [f.strip() for f in values["features"].split(",") if f.strip()] or None
        request = TrainRequest(
            values["dataset"],
            values["target"],
            values["model"],
            features=features,
            params={k.strip(): v.strip() for k, v in params.items()},
        )
        self.query_one("#training").add_class("-active")
        self.query_one("#train-log", RichLog).write(f"training {request.model} on {request.dataset}")
        self._train(request)

    @work(thread=True, exclusive=True, exit_on_error=False, group="train")
    def _train(self, request: Any) -> None:
        self.post_message(RunFinished(self.engine.training.train(request, self.report_progress)))

    def action_sweep(self) -> None:
        fields = [
            Field("dataset", "Dataset (NAME or NAME@vN)", placeholder="churn"),
            Field("target", "Target column", placeholder="churned"),
            Field("model", "Model", value="random_forest"),
            Field(
                "grid",
                "Grid (grid search)",
                placeholder="max_depth=5,10; n_estimators=100,200",
                required=False,
            ),
            Field("trials", "Trials (random search, instead of a grid)", required=False),
            Field("workers", "Worker processes", value=str(os.cpu_count() or 1)),
        ]
        self.app.push_screen(
            FormDialog("Sweep a model's parameters", fields, "Start sweep"), self._start_sweep
        )

    def _start_sweep(self, values: dict[str, str] | None) -> None:
        if values is None:
            return
        from engine.training import sweep
        from engine.training.trainer import TrainRequest

        try:
            base = TrainRequest(values["dataset"], values["target"], values["model"])
            grid = sweep.parse_grid([item for item in values["grid"].split(";") if item.strip()])
            trials = int(values["trials"]) if values["trials"] else None
            candidates = sweep.candidates_for(base, grid, trials)
            workers = int(values["workers"])
        except (InvalidInput, ValueError) as problem:
            self.app.notify(str(problem), title="Sweep not started", severity="error")
            return
        self.query_one("#training").add_class("-active")
        self.query_one("#train-log", RichLog).write(f"sweep of {len(candidates)} trials, {workers} workers")
        self._sweep(base, candidates, workers)

    @work(thread=True, exclusive=True, exit_on_error=False, group="train")
    def _sweep(self, base: Any, candidates: list[dict[str, Any]], workers: int) -> None:
        from engine.training.sweep import run_sweep

        def report(stage: str, fraction: float | None) -> None:
            self.report_progress(stage, fraction)
            if stage.startswith("trial "):
                self.app.call_from_thread(self.refresh_now)

        self.post_message(
            SweepFinished(run_sweep(self.engine.training, base, candidates, workers, progress=report))
        )

    def on_sweep_finished(self, message: SweepFinished) -> None:
        best = message.result.best
        summary = f"sweep {message.result.parent_run_name}: {len(message.result.trials)} trials"
        if best is not None:
            summary += f", best {best.run_name} f1 {best.metrics['f1']:.4f}"
        self.query_one("#train-log", RichLog).write(Text(summary, style="green"))
        self.app.notify(summary, title="Sweep finished")
        self.refresh_now()

    def on_work_progressed(self, message: WorkProgressed) -> None:
        if message.fraction is not None:
            self.query_one("#train-progress", ProgressBar).update(progress=message.fraction)
        self.query_one("#train-log", RichLog).write(message.stage)

    def on_run_finished(self, message: RunFinished) -> None:
        result = message.result
        summary = f"{result.run_name}: f1 {result.metrics['f1']:.4f}, roc_auc {result.metrics['roc_auc']:.4f}"
        self.query_one("#train-log", RichLog).write(Text(summary, style="green"))
        self.app.notify(summary, title="Run finished")
        self.refresh_now()

    def worker_failed(self, worker: Any) -> None:
        super().worker_failed(worker)
        if worker.group in ("train", "pipeline"):
            self.query_one("#train-log", RichLog).write(Text(f"failed: {worker.error}", style="red"))


def _seconds(value: float | None) -> str:
    return f"{value:.2f} s" if value is not None else ""


def _status(status: str) -> Text:
    return Text(
        status.lower(), style={"FINISHED": "green", "FAILED": "red", "RUNNING": "yellow"}.get(status, "")
    )
