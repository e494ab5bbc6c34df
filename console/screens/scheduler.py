"""Scheduler: the scheduled jobs (schedule, state, next run, last outcome), each job's runs with
their errors, and the automatic retrain loop's turns with every step and its evidence.

A job runs now (``n``), pauses (``p``) or resumes (``u``) from here, in a worker; the run's
summary lands in the work panel and in the history table. The loop's turn shown is the one
under the cursor of the turns table, its steps below.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from console.messages import JobPaused, JobRan, JobResumed
from console.screens.base import WorkScreen
from console.widgets.filter_table import FilterableTable
from console.widgets.table_rows import selected_key, show_rows
from console.widgets.work_panel import WorkPanel
from console.workers import blocking_work
from engine.facade import Facade
from engine.types.monitoring import JobInfo, JobRun, LoopRun
from engine.types.workspace import WorkspaceStatus

RUNS_SHOWN = 100
TURNS_SHOWN = 50
OUTCOME_STYLES = {
    "ok": "green",
    "promoted": "green",
    "failed": "red",
    "rolled_back": "yellow",
    "skipped": "dim",
    "canary": "cyan",
    "running": "cyan",
    "waiting": "cyan",
}


@dataclass(frozen=True)
class SchedulerData:
    jobs: list[JobInfo]
    runs: list[JobRun]
    turns: list[LoopRun]


class SchedulerScreen(WorkScreen):
    WORK_GROUPS: ClassVar[frozenset[str]] = frozenset({"jobs"})
    MODE: ClassVar[str] = "scheduler"
    TITLE: ClassVar[str] = "Scheduler"
    CSS_PATH = "scheduler.tcss"
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("n", "run_now", "Run job now"),
        Binding("p", "pause", "Pause job"),
        Binding("u", "resume", "Resume job"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._data: SchedulerData | None = None
        self.selected_turn: int | None = None

    def compose_body(self) -> ComposeResult:
        with Vertical(id="scheduler-body"):
            with Horizontal(id="scheduler-upper", classes="panes"):
                with Vertical(classes="panel", id="jobs-panel"):
                    yield Static("Jobs", classes="panel-title")
                    yield DataTable(id="jobs", cursor_type="row", zebra_stripes=True)
                with Vertical(classes="panel", id="runs-panel"):
                    yield Static("Job runs", classes="panel-title")
                    yield FilterableTable(id="runs", placeholder="filter runs (job, status, error)…")
            with Horizontal(id="scheduler-lower", classes="panes"):
                with Vertical(classes="panel", id="turns-panel"):
                    yield Static("Retrain loop", classes="panel-title")
                    yield DataTable(id="turns", cursor_type="row", zebra_stripes=True)
                with Vertical(classes="panel", id="steps-panel"):
                    yield Static("Steps of the turn", id="steps-title", classes="panel-title")
                    yield DataTable(id="steps", cursor_type="row", zebra_stripes=True)
            yield WorkPanel("Jobs", id="scheduler-work", classes="panel")

    def on_mount(self) -> None:
        self.query_one("#jobs", DataTable).add_columns("job", "schedule", "state", "next run", "last", "took")
        self.query_one("#runs", FilterableTable).table.add_columns(
            "id", "job", "trigger", "started", "took", "status", "found"
        )
        self.query_one("#turns", DataTable).add_columns(
            "turn", "started", "trigger", "endpoint", "versions", "outcome"
        )
        self.query_one("#steps", DataTable).add_columns("at", "step", "status", "detail")

    # -- live data ------------------------------------------------------------------------------

    def load_live_data(self, engine: Facade) -> SchedulerData:
        wanted = self.filters.get("runs", "").lower()
        runs = [
            run
            for run in engine.scheduler.history(None, RUNS_SHOWN)
            if wanted in f"{run.job} {run.status} {run.error or ''} {run.summary or ''}".lower()
        ]
        return SchedulerData(engine.scheduler.jobs(), runs, engine.loop.history(TURNS_SHOWN))

    def show_live_data(self, status: WorkspaceStatus, data: SchedulerData) -> None:
        if data == self._data:
            return
        self._data = data
        show_rows(self.query_one("#jobs", DataTable), [(job.name, _job_row(job)) for job in data.jobs])
        show_rows(
            self.query_one("#runs", FilterableTable).table,
            [(str(run.id), _run_row(run)) for run in data.runs],
            feed=True,
        )
        show_rows(
            self.query_one("#turns", DataTable),
            [(str(turn.id), _turn_row(turn)) for turn in data.turns],
            select=None if self.selected_turn is None else str(self.selected_turn),
        )
        self._show_turn()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "turns" and event.row_key.value:
            self.selected_turn = int(event.row_key.value)
            self._show_turn()

    def _show_turn(self) -> None:
        turns = self._data.turns if self._data else []
        turn = next((t for t in turns if t.id == self.selected_turn), turns[0] if turns else None)
        self.query_one("#steps-title", Static).update(
            Text(f"Steps of turn {turn.id}: {turn.reason or turn.outcome}")
            if turn
            else "Steps (no turn yet: [loop] enabled = true, or `mlops loop run ENDPOINT`)"
        )
        show_rows(
            self.query_one("#steps", DataTable),
            [
                (
                    str(index),
                    [
                        step.happened_at[11:19],
                        step.step,
                        Text(step.status, style=OUTCOME_STYLES.get(step.status, "")),
                        _step_detail(step.detail, step.evidence),
                    ],
                )
                for index, step in enumerate(turn.steps if turn else [])
            ],
        )

    # -- actions --------------------------------------------------------------------------------

    def _selected_job(self) -> str | None:
        job = selected_key(self.query_one("#jobs", DataTable))
        if job is None:
            self.app.notify("No job selected", severity="warning")
        return job

    def action_run_now(self) -> None:
        job = self._selected_job()
        if job is not None:
            self.work_panel.start(f"running {job} now")
            self._run(job)

    @blocking_work("jobs")
    def _run(self, job: str) -> None:
        self.post_message(JobRan(self.engine.scheduler.run(job)))

    def on_job_ran(self, message: JobRan) -> None:
        run = message.run
        said = f"{run.job}: {run.status}: {run.error or run.summary or ''}"
        if run.status == "ok":
            self.work_panel.succeeded(said)
        else:
            self.work_panel.failed(said)
        self.app.notify(
            said, title=f"Job {run.job} ran", severity="information" if run.status == "ok" else "error"
        )
        self.refresh_now()

    def action_pause(self) -> None:
        job = self._selected_job()
        if job is not None:
            self._pause(job)

    @blocking_work("jobs")
    def _pause(self, job: str) -> None:
        self.engine.scheduler.pause(job)
        self.post_message(JobPaused(job))

    def on_job_paused(self, message: JobPaused) -> None:
        self.app.notify(f"{message.job} stays paused until resumed, across restarts", title="Job paused")
        self.refresh_now()

    def action_resume(self) -> None:
        job = self._selected_job()
        if job is not None:
            self._resume(job)

    @blocking_work("jobs")
    def _resume(self, job: str) -> None:
        self.engine.scheduler.resume(job)
        self.post_message(JobResumed(job))

    def on_job_resumed(self, message: JobResumed) -> None:
        self.app.notify(f"{message.job} is back on its schedule", title="Job resumed")
        self.refresh_now()


def _job_row(job: JobInfo) -> list[object]:
    last = job.last_run
    state = "paused" if job.paused else ("scheduled" if job.scheduling else "not scheduled here")
    return [
        job.name,
        job.schedule,
        Text(state, style="yellow" if job.paused else ""),
        (job.next_run_at or "")[:16].replace("T", " "),
        Text(last.status, style=OUTCOME_STYLES.get(last.status, "")) if last else "never",
        "" if last is None or last.seconds is None else f"{last.seconds:.2f} s",
    ]


def _run_row(run: JobRun) -> list[object]:
    return [
        str(run.id),
        run.job,
        run.trigger,
        run.started_at[:19].replace("T", " "),
        "" if run.seconds is None else f"{run.seconds:.2f} s",
        Text(run.status, style=OUTCOME_STYLES.get(run.status, "")),
        run.error or run.summary or "",
    ]


def _turn_row(turn: LoopRun) -> list[object]:
    versions = f"v{turn.champion_version}" + (
        f" -> v{turn.challenger_version}" if turn.challenger_version else ""
    )
    return [
        str(turn.id),
        turn.started_at[:16].replace("T", " "),
        turn.trigger,
        turn.endpoint,
        f"{turn.model} {versions}",
        Text(turn.outcome, style=OUTCOME_STYLES.get(turn.outcome, "")),
    ]


def _step_detail(detail: str, evidence: dict[str, object]) -> str:
    """The step's sentence, with the evidence's short facts (a pipeline run, a version) after it."""
    facts = {key: value for key, value in evidence.items() if isinstance(value, str | int | float)}
    return detail + (f"  {json.dumps(facts)}" if facts and len(json.dumps(facts)) < 120 else "")
