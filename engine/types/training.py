"""Training requests and what runs, comparisons, sweeps and reproductions return.

The text parsers here turn what a person types (``n_estimators=200``, ``max_depth=5,10``,
``age, plan``) into request fields, so the CLI and the console read the same input the same
way and name the same problems.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from engine.errors import InvalidInput

DEFAULT_EXPERIMENT = "default"

POSITIVE_CLASS_TAG = "mlops.positive_class"
"""The run tag holding a binary target's positive class, as text (engine/training/labels.py)."""

RUN_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss")
"""What every training run logs for its held-out rows (engine/training/metrics.py)."""

LOWER_IS_BETTER = frozenset({"log_loss", "brier", "brier_score", "loss", "rmse", "mae", "mse"})


def lower_is_better(metric: str) -> bool:
    """Whether a smaller value of ``metric`` is the better one (a loss); otherwise larger is."""
    return metric.removeprefix("eval.").removeprefix("best_") in LOWER_IS_BETTER


def best_index(metric: str, values: Iterable[float | None]) -> int | None:
    """The position of the best value of ``metric`` (missing and NaN values never win); the first
    on ties."""
    scored = [(value, index) for index, value in enumerate(values) if value is not None and value == value]
    if not scored:
        return None
    if lower_is_better(metric):
        return min(scored)[1]
    return min(scored, key=lambda pair: (-pair[0], pair[1]))[1]


@dataclass(frozen=True)
class TrainRequest:
    dataset: str
    target: str
    model: str = "random_forest"
    features: list[str] | None = None  # None: every column but the target, timestamps and identifiers
    feature_views: list[str] = field(default_factory=list)  # "view:feature", joined point in time
    params: dict[str, str] = field(default_factory=dict)  # as typed on the command line
    experiment: str = DEFAULT_EXPERIMENT
    run_name: str | None = None
    split: str = "random"
    test_size: float = 0.2
    seed: int = 42
    positive_class: str | None = None  # as typed; None: chosen by the rule in training/labels.py


@dataclass(frozen=True)
class SweepRequest:
    """A grid (``grid``) or random search (``trials`` draws) over ``base.model``'s parameters."""

    base: TrainRequest
    grid: dict[str, list[str]] = field(default_factory=dict)
    trials: int | None = None
    workers: int = 1
    metric: str = "f1"  # what ranks the trials (its direction decides which end is best)


def parse_params(items: Iterable[str], option: str = "--param") -> dict[str, str]:
    """``NAME=VALUE`` items; the values stay text until the model's catalogue types them."""
    params: dict[str, str] = {}
    for item in (part.strip() for part in items):
        if not item:
            continue
        name, separator, value = item.partition("=")
        if not separator or not name.strip():
            raise InvalidInput(f"{option} {item!r}: expected NAME=VALUE, e.g. n_estimators=200")
        params[name.strip()] = value.strip()
    return params


def parse_grid(items: Iterable[str], option: str = "--grid") -> dict[str, list[str]]:
    """``NAME=V1,V2`` items: the values a grid search tries for each parameter."""
    grid: dict[str, list[str]] = {}
    for item in (part.strip() for part in items):
        if not item:
            continue
        name, separator, values = item.partition("=")
        choices = [value.strip() for value in values.split(",") if value.strip()]
        if not separator or not name.strip() or not choices:
            raise InvalidInput(f"{option} {item!r}: expected NAME=V1,V2,... e.g. max_depth=5,10")
        grid[name.strip()] = choices
    return grid


def parse_positive_class(text: str | None) -> str | None:
    """``--positive-class`` as typed; blank means "not given" (the target's labels decide)."""
    return (text or "").strip() or None


def parse_columns(text: str | None) -> list[str] | None:
    """A comma-separated column list; empty means "not given" (None)."""
    columns = [name.strip() for name in (text or "").split(",") if name.strip()]
    return columns or None


@dataclass(frozen=True)
class RunResult:
    run_id: str
    run_name: str
    experiment: str
    model: str
    dataset: str  # NAME@vN
    content_hash: str
    features: list[str]
    params: dict[str, Any]
    metrics: dict[str, float]
    fit_seconds: float
    total_seconds: float
    positive_class: str | None  # what precision, recall and f1 score; None for more than two classes

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


RUN_ATTRIBUTES = ("run_id", "run_name", "status", "start_time", "end_time", "experiment_id", "experiment")


@dataclass(frozen=True)
class Run:
    """A tracked run as a filter, a table or a comparison sees it."""

    run_id: str
    run_name: str
    status: str  # MLflow's: RUNNING, FINISHED, FAILED, KILLED
    start_time: int | None  # ms since the epoch
    end_time: int | None
    experiment_id: str
    experiment: str
    metrics: dict[str, float]
    params: dict[str, str]
    tags: dict[str, str]

    @property
    def attributes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in RUN_ATTRIBUTES}

    def value(self, kind: str, name: str) -> Any:
        """``metrics``/``params``/``tags``/``attributes`` and a name, as the filter syntax names them."""
        if kind == "attributes":
            return getattr(self, name) if name in RUN_ATTRIBUTES else None
        found: Any = getattr(self, kind).get(name)
        return found

    @property
    def dataset(self) -> str:
        """The dataset version it trained on (``NAME@vN``), or "" for a run made elsewhere."""
        name, version = self.tags.get("mlops.dataset"), self.tags.get("mlops.dataset_version")
        return f"{name}@v{version}" if name and version else ""

    @property
    def model(self) -> str:
        return self.tags.get("mlops.model", "")

    @property
    def positive_class(self) -> str | None:
        """The binary target's positive class as the run recorded it (None: not recorded)."""
        return self.tags.get(POSITIVE_CLASS_TAG)

    @property
    def features(self) -> list[str] | None:
        recorded = self.tags.get("mlops.features")
        return list(json.loads(recorded)) if recorded else None

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.attributes,
            "dataset": self.dataset,
            "metrics": self.metrics,
            "params": self.params,
            "tags": self.tags,
            "features": self.features,
        }


@dataclass(frozen=True)
class Comparison:
    runs: list[Run]
    params: dict[str, list[str | None]]  # name -> value per run
    differing_params: set[str]
    metrics: dict[str, list[float | None]]
    best: dict[str, int]  # metric -> index of the best run

    def to_dict(self) -> dict[str, Any]:
        names = [run.run_name for run in self.runs]
        return {
            "runs": [run.to_dict() for run in self.runs],
            "params": self.params,
            "differing_params": sorted(self.differing_params),
            "metrics": self.metrics,
            "best": {metric: names[index] for metric, index in self.best.items()},
        }


@dataclass(frozen=True)
class Trial:
    run_id: str
    run_name: str
    params: dict[str, Any]
    metrics: dict[str, float]
    fit_seconds: float


@dataclass(frozen=True)
class SweepResult:
    parent_run_id: str
    parent_run_name: str
    metric: str
    searched: list[str]  # the parameters the sweep varied
    trials: list[Trial]
    interrupted: bool

    @property
    def ranked(self) -> list[Trial]:
        """Best trial first, by ``metric`` in its own direction."""
        sign = 1 if lower_is_better(self.metric) else -1

        def rank(trial: Trial) -> tuple[bool, float]:
            value = trial.metrics[self.metric]
            return (value != value, sign * value)  # NaN last

        return sorted(self.trials, key=rank)

    @property
    def best(self) -> Trial | None:
        index = best_index(self.metric, (trial.metrics[self.metric] for trial in self.trials))
        return None if index is None else self.trials[index]

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        return {
            "parent_run_id": self.parent_run_id,
            "parent_run_name": self.parent_run_name,
            "metric": self.metric,
            "searched": self.searched,
            "interrupted": self.interrupted,
            "best": None if best is None else asdict(best),
            "trials": [asdict(trial) for trial in self.trials],
        }


@dataclass(frozen=True)
class MetricCheck:
    name: str
    original: float
    reproduced: float

    @property
    def matches(self) -> bool:
        return self.original == self.reproduced


@dataclass(frozen=True)
class Reproduction:
    original_run_id: str
    run: RunResult
    checks: list[MetricCheck]

    @property
    def exact(self) -> bool:
        return all(check.matches for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "original_run_id": self.original_run_id,
            "run": self.run.to_dict(),
            "exact": self.exact,
            "metrics": [
                {"name": c.name, "original": c.original, "reproduced": c.reproduced, "matches": c.matches}
                for c in self.checks
            ],
        }


SearchSpace = dict[str, list[Any] | tuple[float, float, str]]
"""A parameter's search space: a list of choices, or (low, high, "int" | "float" | "log")."""


@dataclass(frozen=True)
class ModelInfo:
    """A model of the catalogue as a person chooses it: name, what it is, its parameters."""

    name: str
    description: str
    defaults: dict[str, Any]
    search_space: SearchSpace

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "defaults": self.defaults,
            "search_space": {name: list(space) for name, space in self.search_space.items()},
        }
