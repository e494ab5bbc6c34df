"""Running a pipeline: each step in order, served from cache when its inputs are unchanged.

Like ``dvc repro``: a step whose cache key (engine/pipelines/fingerprint.py) matches an
earlier finished step, and whose result still exists (the run, the dataset version, the
model version), is not run again; its stored output feeds the steps below. The first failed
step or refusing gate stops the run with its reason and the remaining steps are skipped, so
nothing below a failure (a registration above all) happens. Every run and step is recorded
as it goes (engine/pipelines/records.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.errors import InvalidInput, MlopsError
from engine.events import EventLog
from engine.pipelines.definition import Pipeline, Step, load_pipeline
from engine.pipelines.fingerprint import cache_key
from engine.pipelines.records import PipelineRecords
from engine.pipelines.steps import KIND_ACTIONS, StepContext, StepFailed
from engine.types.pipelines import PipelineRunRecord
from engine.types.progress import Progress, no_progress
from engine.types.registry import Verdict

# What a step run on its own reads from its upstream step's output, by kind (engine/pipelines/steps.py).
UPSTREAM_KEYS = {
    "validate": ("dataset", "content_hash"),
    "train": ("dataset", "content_hash"),
    "evaluate": ("run_id",),
    "gate": ("run_id", "metrics", "violations", "fairness_judged"),
    "register": ("run_id",),
}

# Builds what a run's steps use: the pipeline, the run's number and its progress callback,
# with the engine's services.
ContextFactory = Callable[[Pipeline, int, Progress], StepContext]


class Pipelines:
    """Pipeline runs of one workspace."""

    def __init__(self, records: PipelineRecords, events: EventLog, make_context: ContextFactory) -> None:
        self._records = records
        self._events = events
        self._make_context = make_context

    def run(
        self, path: str | Path, force: bool = False, progress: Progress = no_progress
    ) -> PipelineRunRecord:
        """Run the pipeline in ``path``; ``force`` ignores the cache (``dvc repro --force``)."""
        return self.run_pipeline(load_pipeline(path), force, progress)

    def run_pipeline(
        self, pipeline: Pipeline, force: bool = False, progress: Progress = no_progress
    ) -> PipelineRunRecord:
        """Run a pipeline already read (the retrain loop's, built from a champion's run)."""
        return self._run(pipeline, pipeline.steps, {}, force, progress)

    def run_step(
        self,
        path: str | Path,
        step_name: str,
        upstream: dict[str, Any] | None = None,
        force: bool = False,
        progress: Progress = no_progress,
    ) -> PipelineRunRecord:
        """Run one step of the pipeline in ``path`` on its own, as a task on a cluster does
        (`mlops pipeline step`, engine/pipelines/kfp_export.py). ``upstream`` is the output of
        the step it takes its input from (``Step.source``), as that step's run recorded it. It
        is recorded as a run of that one step whose definition is the whole pipeline's (so the
        retrain loop can re-run the pipeline that made a model), cached as any run's step is."""
        pipeline = load_pipeline(path)
        names = [step.name for step in pipeline.steps]
        if step_name not in names:
            raise InvalidInput(f"{Path(path).name}: no step {step_name!r}; the steps are {', '.join(names)}")
        step = pipeline.step(step_name)
        if step.source and upstream is None:
            raise InvalidInput(
                f"step {step.name!r} ({step.kind}) takes its input from step {step.source!r}: pass that"
                " step's output as --upstream JSON"
            )
        missing = sorted(set(UPSTREAM_KEYS.get(step.kind, ())) - set(upstream or {}))
        if missing:
            raise InvalidInput(
                f"--upstream for step {step.name!r}: no {missing[0]!r}; expected the output of step"
                f" {step.source!r} as its run recorded it (keys {', '.join(UPSTREAM_KEYS[step.kind])})"
            )
        outputs = {step.source: upstream} if step.source and upstream is not None else {}
        return self._run(pipeline, [step], outputs, force, progress)

    def _run(
        self,
        pipeline: Pipeline,
        steps: list[Step],
        outputs: dict[str, dict[str, Any]],
        force: bool,
        progress: Progress,
    ) -> PipelineRunRecord:
        run_id = self._records.start(pipeline, force, None if steps == pipeline.steps else steps)
        status, reason = "succeeded", None
        try:
            for index, step in enumerate(steps):
                share = 1 / len(steps)
                step_progress = _scaled(progress, f"{step.name}: ", index * share, share)
                step_progress("starting", 0.0)
                context = self._make_context(pipeline, run_id, step_progress)
                failure = self._run_step(run_id, step, outputs, context, force)
                finished = self._records.step(run_id, step.name)
                step_progress(f"{finished.status}: {finished.summary}", 1.0)
                if failure is not None:
                    status, reason = "failed", f"step {step.name}: {failure}"
                    self._records.skip_rest(run_id, f"not run: step {step.name} failed")
                    break
        except BaseException:
            self._records.interrupt(run_id)
            raise
        self._records.finish(run_id, status, reason)
        record = self._records.get(run_id)
        verdict = f"failed at {reason}" if reason else "succeeded"
        self._events.record(
            "pipeline",
            pipeline.name,
            f"run {run_id} {verdict} ({record.ran} ran, {record.cache_hits} from cache)",
        )
        progress(f"pipeline {pipeline.name} {status}", 1.0)
        return record

    def definition(self, run_id: int) -> dict[str, Any] | None:
        """The steps a recorded run ran (as ``Pipeline.to_dict``), or None for an unknown run."""
        return self._records.definition(run_id)

    def runs(
        self, limit: int = 50, pipeline: str | None = None, contains: str = ""
    ) -> list[PipelineRunRecord]:
        """The newest runs, of one pipeline if named, whose pipeline or status holds ``contains``."""
        return self._records.runs(limit, pipeline, contains)

    def get(self, run_id: int) -> PipelineRunRecord:
        """One recorded run with its steps, as it is now (a run in progress included)."""
        return self._records.get(run_id)

    def _run_step(
        self, run_id: int, step: Step, outputs: dict[str, dict[str, Any]], context: StepContext, force: bool
    ) -> str | None:
        """Run or serve one step; returns why it failed, or None."""
        kind = KIND_ACTIONS[step.kind]
        upstream = outputs.get(step.source, {})
        self._records.step_started(run_id, step)
        started = time.perf_counter()
        key = None
        try:
            parts = kind.fingerprint(step, upstream, context)
            key = (
                cache_key({"kind": step.kind, "settings": step.settings, "inputs": parts}) if parts else None
            )
            cached = self._records.cached_output(step.kind, key) if key and not force else None
            if cached is not None and kind.still_valid(cached, context):
                outputs[step.name] = cached
                duration = time.perf_counter() - started
                self._records.step_finished(run_id, step, "cached", duration, key, cached, _verdicts(cached))
                return None
            output = kind.run(step, upstream, context)
        except MlopsError as error:
            verdicts = error.verdicts if isinstance(error, StepFailed) else []
            self._records.step_finished(
                run_id,
                step,
                "failed",
                time.perf_counter() - started,
                key,
                verdicts=verdicts,
                reason=str(error),
            )
            return str(error)
        outputs[step.name] = output
        duration = time.perf_counter() - started
        self._records.step_finished(run_id, step, "succeeded", duration, key, output, _verdicts(output))
        return None


def _verdicts(output: dict[str, Any]) -> list[Verdict]:
    """A gate's verdicts, kept in its output so a cached gate shows them too."""
    return [Verdict(**item) for item in output.get("verdicts", [])]


def _scaled(progress: Progress, prefix: str, start: float, share: float) -> Progress:
    def report(stage: str, fraction: float | None) -> None:
        progress(prefix + stage, start + share * fraction if fraction is not None else None)

    return report
