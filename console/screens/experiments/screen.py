"""Experiments: the runs view and the pipelines view (``p`` switches), forms that train a run,
sweep a model or run a pipeline with progress and a live log, and a compare view of marked
runs. The views show; this screen loads their data, holds the sort order and runs the work."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, DataTable
from textual.worker import Worker

from console.choices import dataset_columns
from console.messages import (
    FilterChanged,
    FormChoicesLoaded,
    PipelineFinished,
    RunFinished,
    RunsCompared,
    SweepFinished,
    WorkProgressed,
)
from console.screens.base import ConsoleScreen
from console.screens.experiments import forms
from console.screens.experiments.compare import CompareScreen
from console.screens.experiments.pipelines_view import PipelinesView
from console.screens.experiments.runs_view import METRICS, RunsView
from console.widgets.dialogs import FormDialog, absolute_path
from console.widgets.work_panel import WorkPanel
from console.workers import blocking_work
from engine.errors import InvalidInput
from engine.facade import Engine, Facade
from engine.types.pipelines import PipelineRunRecord
from engine.types.training import Run, SweepRequest, TrainRequest, lower_is_better
from engine.types.workspace import WorkspaceStatus

SHOWN_RUNS = 500
SHOWN_PIPELINE_RUNS = 50
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

    def compose_body(self) -> ComposeResult:
        with Vertical(id="experiments-body"):
            with ContentSwitcher(initial="runs-panel", id="views"):
                yield RunsView(id="runs-panel", classes="panel")
                yield PipelinesView(id="pipelines-panel", classes="panel")
            yield WorkPanel("Training", id="training", classes="panel")

    @property
    def runs_view(self) -> RunsView:
        return self.query_one(RunsView)

    @property
    def pipelines_view(self) -> PipelinesView:
        return self.query_one(PipelinesView)

    @property
    def work_panel(self) -> WorkPanel:
        return self.query_one(WorkPanel)

    @property
    def showing_pipelines(self) -> bool:
        return self.query_one("#views", ContentSwitcher).current == "pipelines-panel"

    def action_toggle_view(self) -> None:
        switcher = self.query_one("#views", ContentSwitcher)
        switcher.current = "runs-panel" if self.showing_pipelines else "pipelines-panel"
        table = self.pipelines_view.runs_table if self.showing_pipelines else self.runs_view.table
        table.focus()
        self.refresh_bindings()
        self.refresh_now()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Marking, comparing and sorting runs belong to the runs view only."""
        return not (action in RUNS_ONLY_ACTIONS and self.is_mounted and self.showing_pipelines)

    def load_live_data(self, engine: Facade) -> ExperimentsData:
        if self.showing_pipelines:
            contains = self.filters.get("pipeline-runs", "")
            return ExperimentsData(
                pipeline_runs=engine.pipelines.runs(SHOWN_PIPELINE_RUNS, contains=contains)
            )
        return ExperimentsData(
            runs=engine.runs.search(None, self.filters.get("runs", ""), self.order_by, SHOWN_RUNS)
        )

    def show_live_data(self, status: WorkspaceStatus, data: ExperimentsData) -> None:
        if data.pipeline_runs is not None:
            self.pipelines_view.show(data.pipeline_runs)
        if data.runs is not None:
            self.runs_view.show(data.runs, self.order_by)

    # -- filtering and sorting runs ---------------------------------------------------------------

    def on_filter_changed(self, message: FilterChanged) -> None:
        """Only a filter that parses reaches the engine (ConsoleScreen's handler runs after this
        one); while typing, the problem is shown instead."""
        if message.table_id != "runs" or self.host.engine is None:
            return
        try:
            self.host.engine.runs.check_filter(message.text)
        except InvalidInput as problem:
            self.runs_view.show_filter_error(str(problem))
            message.prevent_default()
            return
        self.runs_view.show_filter_error(None)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        name = str(event.label)
        if name in METRICS:
            self._sort_by(name)

    def action_sort(self) -> None:
        current = self.order_by.split()[0].removeprefix("metrics.")
        following = METRICS[(METRICS.index(current) + 1) % len(METRICS)] if current in METRICS else METRICS[0]
        self._sort_by(following)

    def _sort_by(self, metric: str) -> None:
        self.order_by = f"metrics.{metric} {'ASC' if lower_is_better(metric) else 'DESC'}"
        self.refresh_now()

    def action_mark(self) -> None:
        self.runs_view.toggle_mark()

    # -- compare ---------------------------------------------------------------------------------

    def action_compare(self) -> None:
        if len(self.runs_view.marked) < 2:
            self.app.notify("Mark at least two runs with space first", severity="warning")
            return
        self._compare(list(self.runs_view.marked))

    @blocking_work("compare")
    def _compare(self, run_ids: list[str]) -> None:
        self.post_message(RunsCompared(self.engine.runs.compare(run_ids)))

    def on_runs_compared(self, message: RunsCompared) -> None:
        self.app.push_screen(CompareScreen(message.comparison))

    # -- a new run -------------------------------------------------------------------------------

    def action_new_run(self) -> None:
        self._load_choices("run")

    def action_sweep(self) -> None:
        self._load_choices("sweep")

    @blocking_work("forms")
    def _load_choices(self, form: str) -> None:
        """The datasets and their columns the form offers (the engine may be another process)."""
        self.post_message(FormChoicesLoaded(form, dataset_columns(self.engine)))

    def on_form_choices_loaded(self, message: FormChoicesLoaded) -> None:
        if not message.datasets:
            self.app.notify("No dataset to train on yet: ingest one first (Datasets, i)", severity="warning")
            return
        models = Engine.catalogue()
        if message.form == "run":
            fields = forms.new_run_fields(models, message.datasets)
            self.app.push_screen(
                FormDialog("Train a new run", fields, "Train", forms.train_request), self._start_run
            )
        else:
            fields = forms.sweep_fields(os.cpu_count() or 1, models, message.datasets)
            self.app.push_screen(
                FormDialog("Sweep a model's parameters", fields, "Start sweep", forms.sweep_request),
                self._start_sweep,
            )

    def _start_run(self, values: dict[str, str] | None) -> None:
        if values is None:
            return
        request = forms.train_request(values)  # the dialog has checked it
        self.work_panel.start(f"training {request.model} on {request.dataset}")
        self._train(request)

    @blocking_work("train")
    def _train(self, request: TrainRequest) -> None:
        self.post_message(RunFinished(self.engine.training.train(request, self.report_progress)))

    def on_run_finished(self, message: RunFinished) -> None:
        result = message.result
        summary = f"{result.run_name}: f1 {result.metrics['f1']:.4f}, roc_auc {result.metrics['roc_auc']:.4f}"
        self.work_panel.succeeded(summary)
        self.app.notify(summary, title="Run finished")
        self.refresh_now()

    # -- a sweep ---------------------------------------------------------------------------------

    def _start_sweep(self, values: dict[str, str] | None) -> None:
        if values is None:
            return
        request = forms.sweep_request(values)  # the dialog has checked it
        search = f"grid over {', '.join(request.grid)}" if request.grid else f"{request.trials} random trials"
        self.work_panel.start(f"sweep of {request.base.model} ({search}), {request.workers} workers")
        self._sweep(request)

    @blocking_work("train")
    def _sweep(self, request: SweepRequest) -> None:
        def report(stage: str, fraction: float | None) -> None:
            self.report_progress(stage, fraction)
            if stage.startswith("trial "):
                self.app.call_from_thread(self.refresh_now)

        self.post_message(SweepFinished(self.engine.training.sweep(request, report)))

    def on_sweep_finished(self, message: SweepFinished) -> None:
        result = message.result
        best = result.best
        summary = f"sweep {result.parent_run_name}: {len(result.trials)} trials"
        if best is not None:
            summary += f", best {best.run_name} {result.metric} {best.metrics[result.metric]:.4f}"
        self.work_panel.succeeded(summary)
        self.app.notify(summary, title="Sweep finished")
        self.refresh_now()

    # -- a pipeline ------------------------------------------------------------------------------

    def action_run_pipeline(self) -> None:
        fields = forms.pipeline_fields(self.pipelines_view.last_path)
        dialog = FormDialog("Run a pipeline", fields, "Run", forms.pipeline_choice)
        self.app.push_screen(dialog, self._start_pipeline)

    def _start_pipeline(self, values: dict[str, str] | None) -> None:
        if values is None:
            return
        path, force = forms.pipeline_choice(values)  # the dialog has checked it
        if not self.showing_pipelines:
            self.action_toggle_view()
        self.work_panel.start(f"pipeline {path}")
        self._run_pipeline(path, force)

    @blocking_work("pipeline")
    def _run_pipeline(self, path: str, force: bool) -> None:
        def report(stage: str, fraction: float | None) -> None:
            self.report_progress(stage, fraction)
            self.app.call_from_thread(self._follow_newest_pipeline_run)

        self.post_message(
            PipelineFinished(self.engine.pipelines.run(absolute_path(path), force=force, progress=report))
        )

    def _follow_newest_pipeline_run(self) -> None:
        self.pipelines_view.follow_newest()
        self.refresh_now()

    def on_pipeline_finished(self, message: PipelineFinished) -> None:
        record = message.record
        summary = (
            f"pipeline {record.pipeline} run {record.id} {record.status}: "
            f"{record.ran} ran, {record.cache_hits} from cache"
        )
        if record.status == "succeeded":
            self.work_panel.succeeded(summary)
        else:
            self.work_panel.failed(f"{summary}; {record.reason}")
        self.app.notify(
            record.reason or summary,
            title=f"Pipeline {record.status}",
            severity="information" if record.status == "succeeded" else "error",
        )
        self.pipelines_view.select(record.id)
        self.refresh_now()

    # -- progress --------------------------------------------------------------------------------

    def on_work_progressed(self, message: WorkProgressed) -> None:
        self.work_panel.progressed(message.stage, message.fraction)

    def worker_failed(self, worker: Worker[object]) -> None:
        super().worker_failed(worker)
        if worker.group in ("train", "pipeline"):
            self.work_panel.failed(f"failed: {worker.error}")
