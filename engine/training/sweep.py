"""Sweeps (the seed's automatic model search): a grid or random search over a catalogue
model's parameters, trials fitted in parallel worker processes, each trial a child run under
one parent run, the best trial's model logged with it.

Workers never open the workspace database (DESIGN rule 2): the parent prepares the data once
and sends it; workers only fit and score. The parent logs each trial as it finishes, so the
SQLite store has one writer. Ctrl-C cancels the trials not yet started, keeps the finished
ones and marks the parent run KILLED.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import os
import random
import sys
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from engine.errors import InvalidInput
from engine.training import tracking
from engine.training.catalogue import ModelSpec, model_spec
from engine.training.checks import check_request
from engine.training.trainer import FittedModel, Trainer, fit_and_score
from engine.types.progress import Progress, no_progress
from engine.types.training import RUN_METRICS, SweepRequest, SweepResult, Trial, best_index

WORKER_NICENESS = 10  # CPU weight ~1/10 of the owner's when they compete for a core


def grid_candidates(spec: ModelSpec, grid: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, typed like the model's parameters."""
    names = list(grid)
    return [
        spec.parse_params(dict(zip(names, values, strict=True)))
        for values in itertools.product(*grid.values())
    ]


def random_candidates(spec: ModelSpec, trials: int, seed: int) -> list[dict[str, Any]]:
    """``trials`` draws from the catalogue's search space (log-uniform where it says so)."""
    if trials < 1:
        raise InvalidInput(f"--trials {trials}: expected at least 1")
    rng = random.Random(seed)
    drawn = []
    for _ in range(trials):
        params: dict[str, Any] = {}
        for name, space in spec.search_space.items():
            if isinstance(space, list):
                params[name] = rng.choice(space)
            else:
                low, high, kind = space
                if kind == "int":
                    params[name] = rng.randint(int(low), int(high))
                elif kind == "log":
                    params[name] = math.exp(rng.uniform(math.log(low), math.log(high)))
                else:
                    params[name] = rng.uniform(low, high)
        drawn.append(params)
    return drawn


def run_sweep(trainer: Trainer, request: SweepRequest, progress: Progress = no_progress) -> SweepResult:
    """Every candidate fitted in worker processes, each logged as a child run as it finishes; the
    best by ``request.metric`` (in its own direction) gets its model logged."""
    base, metric = request.base, request.metric
    if metric not in RUN_METRICS:
        raise InvalidInput(f"--metric {metric!r}: expected one of {', '.join(RUN_METRICS)}")
    check_request(base)
    candidates = candidates_for(request)
    if request.workers < 1:
        raise InvalidInput(f"--workers {request.workers}: expected at least 1")
    workers = min(request.workers, os.cpu_count() or 1, len(candidates))
    data = trainer.prepare(base, progress)  # the data's checks, then the libraries' import (warm.py)
    if request.grid:
        for params in candidates:
            model_spec(base.model).check_params(params, "--grid")
    from mlflow.entities import Metric, RunTag

    store = tracking.client(trainer.tracking_uri)
    parent = store.create_run(
        trainer.experiment_id(base.experiment),
        run_name=base.run_name,
        tags={
            "mlops.sweep": "true",
            "mlops.model": base.model,
            "mlops.trials": str(len(candidates)),
            "mlops.dataset": data.version.name,
            "mlops.dataset_version": str(data.version.version),
        },
    )
    parent_id = parent.info.run_id
    trials: list[Trial] = []
    best_fit: tuple[Trial, FittedModel] | None = None
    interrupted = False
    # spawn: a forked child would inherit the owner's threads and DuckDB handle. The workers run
    # niced: they use every core, and the owner (the console's event loop) must still get one.
    with _real_stderr():  # the pool's queues start multiprocessing's resource tracker, submit its workers
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=os.nice,
            initargs=(WORKER_NICENESS,),
        )
        pending: set[Future[FittedModel]] = {
            pool.submit(fit_and_score, base.model, params, data) for params in candidates
        }
    try:
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                fitted = future.result()
                child = replace(base, run_name=f"{parent.info.run_name}-{len(trials) + 1}")
                run_id, run_name = trainer.log_run(
                    child, data, fitted, parent_run_id=parent_id, with_model=False
                )
                trial = Trial(run_id, run_name, fitted.params, fitted.metrics, fitted.fit_seconds)
                trials.append(trial)
                incumbent = best_fit[0].metrics[metric] if best_fit else None
                if best_index(metric, (incumbent, trial.metrics[metric])) == 1:
                    best_fit = (trial, fitted)
                progress(
                    f"trial {len(trials)}/{len(candidates)}: {metric} {trial.metrics[metric]:.4f}",
                    0.1 + 0.8 * len(trials) / len(candidates),
                )
    except KeyboardInterrupt:
        interrupted = True
        pool.shutdown(wait=False, cancel_futures=True)
    finally:
        pool.shutdown(wait=not interrupted, cancel_futures=True)
    if best_fit is not None:
        best, fitted = best_fit
        progress(f"logging the best trial's model ({best.run_name})", 0.95)
        trainer.log_model(best.run_id, data, fitted)
        store.log_batch(
            parent_id,
            metrics=[Metric(f"best_{name}", value, 0, 0) for name, value in best.metrics.items()],
            tags=[RunTag("mlops.best_run_id", best.run_id)],
        )
        trainer.record_lineage(data.version, best.run_id)
    store.set_terminated(parent_id, "KILLED" if interrupted else "FINISHED")
    progress("sweep interrupted; finished trials kept" if interrupted else "sweep finished", 1.0)
    searched = list(request.grid) or list(model_spec(base.model).search_space)
    return SweepResult(parent_id, parent.info.run_name, metric, searched, trials, interrupted)


@contextmanager
def _real_stderr() -> Iterator[None]:
    """Worker processes are started with this process's stderr descriptor. An app that captures
    output (the Textual console does) sets ``sys.stderr`` to an object whose ``fileno()`` is
    -1, which multiprocessing cannot pass on; the real stderr stands in while workers start."""
    try:
        usable = sys.stderr.fileno() >= 0
    except (AttributeError, ValueError, OSError):
        usable = False
    if usable:
        yield
        return
    captured, sys.stderr = sys.stderr, sys.__stderr__
    try:
        yield
    finally:
        sys.stderr = captured


def candidates_for(request: SweepRequest) -> list[dict[str, Any]]:
    """The parameter sets to try: the grid's combinations, or ``trials`` random draws."""
    spec = model_spec(request.base.model)
    if request.grid and request.trials:
        raise InvalidInput("give either --grid (grid search) or --trials (random search), not both")
    if not request.grid and not request.trials:
        raise InvalidInput("the sweep has no trials; give --grid values or --trials N")
    if request.grid:
        return grid_candidates(spec, request.grid)
    return random_candidates(spec, request.trials or 0, request.base.seed)
