"""``engine.scheduler``: the monitors on a schedule (APScheduler 3), in whichever process owns
the workspace for long: ``mlops up``, ``mlops serve`` and the console start it; a one-off
command does not.

The jobs come from ``[monitors]``: drift, accuracy and validation every N minutes, retention on
a cron schedule; and from ``[loop]``: the weekly retrain (cron) and the canary check (every N
minutes) of the automatic loop (a 0 interval or an empty cron switches one off). Each run is recorded in
``job_runs`` (start, end, status, error, the monitor's summary), whether the schedule or
``mlops jobs run`` started it. A job that fails is recorded and runs again at its next tick; it
never stops the scheduler or its host. Runs are on the scheduler's own thread pool, never on
the console's event loop. A run missed while nothing owned the workspace runs late if at most
``misfire_grace_seconds`` late, and several missed runs of a job run once (APScheduler's
``coalesce``); one job never runs twice at once. ``mlops jobs pause`` keeps a job paused across
restarts (``paused_jobs``).
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from engine.config import LoopConfig, MonitorsConfig
from engine.db import Database
from engine.errors import InvalidInput, MlopsError
from engine.identifiers import check_limit
from engine.monitoring.loop import RetrainLoop
from engine.monitoring.monitors import Monitors
from engine.types.monitoring import JobInfo, JobRun

TRIGGER_SCHEDULE = "schedule"
TRIGGER_MANUAL = "manual"


class Scheduler:
    def __init__(
        self,
        db: Database,
        monitors: Monitors,
        loop: RetrainLoop,
        config: MonitorsConfig,
        loop_config: LoopConfig,
        ready: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._config = config
        self._ready = ready  # waits for the owner's warm-up: two threads importing MLflow at once break it
        self._jobs: dict[str, tuple[Callable[[], str], str]] = {}  # name -> (work, schedule as said)
        self._triggers: dict[str, Any] = {}
        for name, minutes, work in (
            ("drift", config.drift_minutes, monitors.drift),
            ("accuracy", config.accuracy_minutes, monitors.accuracy),
            ("validation", config.validation_minutes, monitors.validation),
        ):
            if minutes > 0:
                self._jobs[name] = (work, f"every {minutes:g} min")
                self._triggers[name] = ("interval", minutes)
        for name, cron, work in (
            ("retention", config.retention_cron, monitors.retention),
            ("retrain", loop_config.retrain_cron, loop.scheduled),
        ):
            if cron.strip():
                self._jobs[name] = (work, f"cron {cron}")
                self._triggers[name] = ("cron", cron)
        if loop_config.canary_check_minutes > 0:
            self._jobs["canary"] = (loop.advance, f"every {loop_config.canary_check_minutes:g} min")
            self._triggers["canary"] = ("interval", loop_config.canary_check_minutes)
        self._scheduler: Any = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Schedule every job (paused ones stay paused) on a background thread pool."""
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        with self._lock:
            if self._scheduler is not None:
                return
            scheduler = BackgroundScheduler(
                timezone=UTC,
                job_defaults={
                    "coalesce": True,
                    "max_instances": 1,
                    "misfire_grace_time": self._config.misfire_grace_seconds,
                },
            )
            paused = self._paused()
            for name, (kind, value) in self._triggers.items():
                trigger = (
                    IntervalTrigger(minutes=value, timezone=UTC)
                    if kind == "interval"
                    else CronTrigger.from_crontab(value, timezone=UTC)
                )
                job = scheduler.add_job(self._scheduled, trigger, args=[name], id=name, name=name)
                if name in paused:
                    job.pause()
            scheduler.start()
            self._scheduler = scheduler

    def stop(self) -> None:
        """Stop scheduling and wait for a run in progress to finish (before the owner closes)."""
        with self._lock:
            scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=True)

    def jobs(self) -> list[JobInfo]:
        paused = self._paused()
        last = self._last_runs()
        listed = []
        for name, (_, schedule) in self._jobs.items():
            job = self._scheduler.get_job(name) if self._scheduler is not None else None
            upcoming = job.next_run_time if job is not None else None
            run = last.get(name)
            listed.append(
                JobInfo(
                    name,
                    schedule,
                    name in paused,
                    None if upcoming is None else upcoming.isoformat(timespec="seconds"),
                    run,
                    self._scheduler is not None,
                )
            )
        return listed

    def next_run(self) -> tuple[str, str] | None:
        """The job that runs next on this scheduler and when (None: none scheduled here)."""
        scheduler = self._scheduler
        if scheduler is None:
            return None
        upcoming = [job for job in scheduler.get_jobs() if job.next_run_time is not None]
        if not upcoming:
            return None
        first = min(upcoming, key=lambda job: job.next_run_time)
        return first.id, first.next_run_time.isoformat(timespec="seconds")

    def run(self, name: str) -> JobRun:
        """Run a job now, in the caller's thread, recorded like a scheduled run."""
        self._check(name)
        return self._record(name, TRIGGER_MANUAL)

    def pause(self, name: str) -> JobInfo:
        self._check(name)
        with self._db.cursor() as cursor:
            cursor.execute("INSERT INTO paused_jobs (job) VALUES (?) ON CONFLICT DO NOTHING", [name])
        if self._scheduler is not None:
            self._scheduler.pause_job(name)
        return next(job for job in self.jobs() if job.name == name)

    def resume(self, name: str) -> JobInfo:
        self._check(name)
        with self._db.cursor() as cursor:
            cursor.execute("DELETE FROM paused_jobs WHERE job = ?", [name])
        if self._scheduler is not None:
            self._scheduler.resume_job(name)
        return next(job for job in self.jobs() if job.name == name)

    def history(self, name: str | None = None, limit: int = 50) -> list[JobRun]:
        check_limit(limit)
        if name is not None:
            self._check(name)
        with self._db.cursor() as cursor:
            rows = cursor.execute(
                f"SELECT {_RUN_COLUMNS} FROM job_runs WHERE ? IS NULL OR job = ? ORDER BY id DESC LIMIT ?",
                [name, name, max(1, min(limit, 10_000))],
            ).fetchall()
        return [_run(row) for row in rows]

    def _scheduled(self, name: str) -> None:
        self._ready()
        self._record(name, TRIGGER_SCHEDULE)

    def _record(self, name: str, trigger: str) -> JobRun:
        """Run the job and keep its run: a failure is recorded, not raised to the scheduler."""
        work, _ = self._jobs[name]
        with self._db.cursor() as cursor:
            row = cursor.execute(
                "INSERT INTO job_runs (job, trigger, started_at, status)"
                " VALUES (?, ?, now(), 'running') RETURNING id",
                [name, trigger],
            ).fetchone()
        assert row is not None
        run_id = int(row[0])
        status, error, summary = "ok", None, None
        try:
            summary = work()
        except MlopsError as problem:
            status, error = "failed", str(problem)
        except Exception as problem:  # a bug: kept whole for whoever reads the history
            status, error = "failed", "".join(traceback.format_exception_only(problem)).strip()
        with self._db.cursor() as cursor:
            finished = cursor.execute(
                f"UPDATE job_runs SET finished_at = now(), status = ?, error = ?, summary = ? WHERE id = ?"
                f" RETURNING {_RUN_COLUMNS}",
                [status, error, summary, run_id],
            ).fetchone()
        return _run(finished)

    def _check(self, name: str) -> None:
        if name not in self._jobs:
            known = ", ".join(self._jobs) or "none (every job is switched off in [monitors])"
            raise InvalidInput(f"no job named {name!r}; the jobs are {known}")

    def _paused(self) -> set[str]:
        with self._db.cursor() as cursor:
            return {str(row[0]) for row in cursor.execute("SELECT job FROM paused_jobs").fetchall()}

    def _last_runs(self) -> dict[str, JobRun]:
        with self._db.cursor() as cursor:
            rows = cursor.execute(
                f"SELECT {_RUN_COLUMNS} FROM job_runs WHERE id IN (SELECT max(id) FROM job_runs GROUP BY job)"
            ).fetchall()
        return {run.job: run for run in (_run(row) for row in rows)}


_RUN_COLUMNS = "id, job, trigger, started_at, finished_at, status, error, summary"


def _run(row: Any) -> JobRun:
    run_id, job, trigger, started, finished, status, error, summary = row
    seconds = (finished - started).total_seconds() if finished is not None else None
    return JobRun(
        int(run_id),
        job,
        trigger,
        _iso(started),
        None if finished is None else _iso(finished),
        seconds,
        status,
        error,
        summary,
    )


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")
