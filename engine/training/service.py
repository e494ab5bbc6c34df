"""``engine.training``: what a person asks of training — one run, a sweep, a reproduction, the
catalogue — each one call, so the CLI and the console make the same call for the same action."""

from __future__ import annotations

from engine.data.datasets import Datasets
from engine.training import reproduce, sweep
from engine.training.catalogue import CATALOGUE
from engine.training.runs import Runs
from engine.training.trainer import Trainer
from engine.types.progress import Progress, no_progress
from engine.types.training import ModelInfo, Reproduction, RunResult, SweepRequest, SweepResult, TrainRequest


class Training:
    def __init__(self, trainer: Trainer, runs: Runs, datasets: Datasets) -> None:
        self._trainer = trainer
        self._runs = runs
        self._datasets = datasets

    def train(self, request: TrainRequest, progress: Progress = no_progress) -> RunResult:
        """Fit one catalogue model on a dataset version and log the run to MLflow."""
        return self._trainer.train(request, progress)

    def sweep(self, request: SweepRequest, progress: Progress = no_progress) -> SweepResult:
        """A grid or random search, trials in parallel processes, each a child run."""
        return sweep.run_sweep(self._trainer, request, progress)

    def reproduce(self, run: str, progress: Progress = no_progress) -> Reproduction:
        """Retrain ``run`` (an id, unique id prefix or name) from what it recorded, metric by metric."""
        return reproduce.reproduce(self._runs.get(run), self._datasets, self._trainer, progress)

    @staticmethod
    def catalogue() -> list[ModelInfo]:
        """The models a run can fit, with their defaults and search spaces (no workspace needed)."""
        return [
            ModelInfo(spec.name, spec.description, spec.defaults, spec.search_space)
            for spec in CATALOGUE.values()
        ]
