"""Pipeline runs as the workspace records them: one row per run, one per step.

Steps are written as they change (pending → running → succeeded / cached / failed / skipped),
so a console watching a run sees each step move while it runs. The step table doubles as the
run cache: a step's stored output is reused by a later run whose step has the same cache key.
"""

from __future__ import annotations

import json
from typing import Any

from engine.db import Database
from engine.errors import InvalidInput
from engine.identifiers import check_limit
from engine.pipelines.definition import Pipeline, Step
from engine.types.pipelines import PipelineRunRecord, StepRecord
from engine.types.registry import Verdict


class PipelineRecords:
    def __init__(self, db: Database) -> None:
        self._db = db

    def start(self, pipeline: Pipeline, forced: bool, steps: list[Step] | None = None) -> int:
        """A new run with every step pending (or only ``steps``, for a run of one step: its
        definition is still the whole pipeline's); runs left 'running' by a dead process are
        closed."""
        with self._db.transaction() as cursor:
            cursor.execute(
                "UPDATE pipeline_runs SET status = 'interrupted', finished_at = now(),"
                " reason = 'the process running it stopped' WHERE status = 'running'"
            )
            cursor.execute(
                "UPDATE pipeline_steps SET status = 'skipped' WHERE status IN ('pending', 'running')"
            )
            row = cursor.execute(
                "INSERT INTO pipeline_runs (pipeline, path, definition_json, forced, status)"
                " VALUES (?, ?, ?, ?, 'running') RETURNING id",
                [pipeline.name, pipeline.path, json.dumps(pipeline.to_dict()), forced],
            ).fetchone()
            assert row is not None
            run_id = int(row[0])
            for position, step in enumerate(pipeline.steps if steps is None else steps):
                cursor.execute(
                    "INSERT INTO pipeline_steps (pipeline_run, position, step, kind, needs_json, status)"
                    " VALUES (?, ?, ?, ?, ?, 'pending')",
                    [run_id, position, step.name, step.kind, json.dumps(list(step.needs))],
                )
        return run_id

    def step_started(self, run_id: int, step: Step) -> None:
        with self._db.cursor() as cursor:
            cursor.execute(
                "UPDATE pipeline_steps SET status = 'running', started_at = now()"
                " WHERE pipeline_run = ? AND step = ?",
                [run_id, step.name],
            )

    def step_finished(
        self,
        run_id: int,
        step: Step,
        status: str,
        duration: float,
        cache_key: str | None,
        output: dict[str, Any] | None = None,
        verdicts: list[Verdict] | None = None,
        reason: str | None = None,
    ) -> None:
        with self._db.cursor() as cursor:
            cursor.execute(
                "UPDATE pipeline_steps SET status = ?, duration_seconds = ?, cache_key = ?, output_json = ?,"
                " verdicts_json = ?, reason = ? WHERE pipeline_run = ? AND step = ?",
                [
                    status,
                    duration,
                    cache_key,
                    json.dumps(output or {}, default=str),
                    json.dumps([v.to_dict() for v in verdicts or []]),
                    reason,
                    run_id,
                    step.name,
                ],
            )

    def skip_rest(self, run_id: int, reason: str) -> None:
        with self._db.cursor() as cursor:
            cursor.execute(
                "UPDATE pipeline_steps SET status = 'skipped', reason = ?"
                " WHERE pipeline_run = ? AND status = 'pending'",
                [reason, run_id],
            )

    def interrupt(self, run_id: int) -> None:
        """The run was stopped (Ctrl-C, a crash): the running step failed, the rest never ran."""
        with self._db.cursor() as cursor:
            cursor.execute(
                "UPDATE pipeline_steps SET status = 'failed', reason = 'interrupted'"
                " WHERE pipeline_run = ? AND status = 'running'",
                [run_id],
            )
        self.skip_rest(run_id, "not run: the pipeline was interrupted")
        self.finish(run_id, "interrupted", "interrupted")

    def finish(self, run_id: int, status: str, reason: str | None = None) -> None:
        with self._db.cursor() as cursor:
            cursor.execute(
                "UPDATE pipeline_runs SET status = ?, reason = ?, finished_at = now() WHERE id = ?",
                [status, reason, run_id],
            )

    def cached_output(self, kind: str, cache_key: str) -> dict[str, Any] | None:
        """The newest output of a finished step of this kind with this key, if any."""
        with self._db.cursor() as cursor:
            row = cursor.execute(
                "SELECT s.output_json FROM pipeline_steps s JOIN pipeline_runs r ON r.id = s.pipeline_run"
                " WHERE s.kind = ? AND s.cache_key = ? AND s.status IN ('succeeded', 'cached')"
                " ORDER BY r.id DESC LIMIT 1",
                [kind, cache_key],
            ).fetchone()
        return json.loads(row[0]) if row else None

    def definition(self, run_id: int) -> dict[str, Any] | None:
        with self._db.cursor() as cursor:
            row = cursor.execute(
                "SELECT definition_json FROM pipeline_runs WHERE id = ?", [run_id]
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def runs(
        self, limit: int = 50, pipeline: str | None = None, contains: str = ""
    ) -> list[PipelineRunRecord]:
        """The newest runs, of one pipeline if named, whose pipeline or status holds ``contains``."""
        check_limit(limit)
        with self._db.cursor() as cursor:
            ids = cursor.execute(
                "SELECT id FROM pipeline_runs WHERE (? IS NULL OR pipeline = ?)"
                " AND (pipeline || ' ' || status) ILIKE '%' || ? || '%' ORDER BY id DESC LIMIT ?",
                [pipeline, pipeline, contains, limit],
            ).fetchall()
        return [self.get(row[0]) for row in ids]

    def get(self, run_id: int) -> PipelineRunRecord:
        with self._db.cursor() as cursor:
            row = cursor.execute(
                "SELECT id, pipeline, path, forced, status, reason, started_at, finished_at"
                " FROM pipeline_runs WHERE id = ?",
                [run_id],
            ).fetchone()
            if row is None:
                latest = cursor.execute("SELECT max(id) FROM pipeline_runs").fetchone()
                known = f"runs are numbered 1 to {latest[0]}" if latest and latest[0] else "none has run yet"
                raise InvalidInput(f"no pipeline run {run_id}; {known}")
            steps = cursor.execute(
                "SELECT step, kind, needs_json, status, cache_key, started_at, duration_seconds,"
                " output_json, verdicts_json, reason FROM pipeline_steps WHERE pipeline_run = ?"
                " ORDER BY position",
                [run_id],
            ).fetchall()
        run, pipeline, path, forced, status, reason, started_at, finished_at = row
        return PipelineRunRecord(
            run,
            pipeline,
            path,
            forced,
            status,
            reason,
            started_at,
            finished_at,
            steps=[
                StepRecord(
                    name,
                    kind,
                    json.loads(needs),
                    status,
                    key,
                    started,
                    duration,
                    json.loads(output) if output else {},
                    [Verdict(**v) for v in json.loads(verdicts)] if verdicts else [],
                    reason,
                )
                for name, kind, needs, status, key, started, duration, output, verdicts, reason in steps
            ],
        )

    def step(self, run_id: int, name: str) -> StepRecord:
        return next(step for step in self.get(run_id).steps if step.name == name)
