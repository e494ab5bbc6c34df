"""The checks a model version must pass: the promotion gates and the pipeline gate's
``beats_champion`` are judged here, once, with one wording.

"Beats the champion" scores both on the same rows: the champion's logged metrics may come
from another dataset version or split, so it is scored again on the challenger's own held-out
rows (rebuilt from what the challenger's run recorded), and the challenger must beat that
score by the margin, in the metric's own direction. No champion yet passes: nothing to beat.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.data.datasets import Datasets
from engine.errors import InvalidInput
from engine.registry.lookup import RegistryLookup
from engine.training import tracking
from engine.training.labels import recorded_positive
from engine.training.metrics import classification_metrics
from engine.training.reproduce import request_from_run
from engine.training.runs import Runs
from engine.training.trainer import Trainer
from engine.types.evaluation import Evaluation
from engine.types.registry import CHAMPION, Verdict
from engine.types.training import Run, lower_is_better


def data_verdict(run: Run, datasets: Datasets) -> Verdict:
    """The version the run trained on passed its validation suite."""
    check = "training data passed validation"
    status = datasets.resolve(run.dataset).status
    if status == "passed":
        return Verdict(check, True, f"{run.dataset} passed its suite")
    if status == "pending":
        return Verdict(check, False, f"{run.dataset} is still waiting for its required suite to run")
    if status == "unvalidated":
        return Verdict(
            check,
            False,
            f"{run.dataset} was never validated; run `mlops data validate {run.dataset} --suite NAME`",
        )
    return Verdict(check, False, f"{run.dataset} is {status}")


def metric_verdict(evaluation: Evaluation, metric: str, threshold: float) -> Verdict:
    """The held-out ``metric`` reaches ``threshold`` (from ``[gates]``)."""
    return threshold_verdict(evaluation.scores.metrics[metric], metric, threshold)


def threshold_verdict(value: float, metric: str, threshold: float) -> Verdict:
    passed = value >= threshold
    relation = "≥" if passed else "<"
    return Verdict(
        f"{metric} >= {threshold:g}", passed, f"held-out {metric} {value:.4f} {relation} {threshold:g}", value
    )


def fairness_verdict(evaluation: Evaluation) -> Verdict:
    """No sensitive attribute with groups large enough to judge breaks the ``[fairness]`` bounds."""
    return bounds_verdict(judged_attributes(evaluation), evaluation.violations)


def judged_attributes(evaluation: Evaluation) -> list[str]:
    """The sensitive attributes with at least two groups large enough to judge."""
    return [item.attribute for item in evaluation.fairness if item.judged]


def bounds_verdict(judged: list[str], violations: list[str]) -> Verdict:
    check = "fairness within bounds"
    if not judged:
        return Verdict(check, True, "no sensitive attribute with two groups large enough to judge")
    if violations:
        more = f" and {len(violations) - 2} more" if len(violations) > 2 else ""
        return Verdict(check, False, "; ".join(violations[:2]) + more)
    return Verdict(check, True, f"no violation across {', '.join(judged)}")


@dataclass(frozen=True)
class ChampionScorer:
    """What scoring a champion on a challenger's rows needs from the engine."""

    runs: Runs
    datasets: Datasets
    trainer: Trainer
    lookup: RegistryLookup
    tracking_uri: str

    def score(self, champion_run_id: str, challenger_run_id: str, metric: str) -> float:
        """The champion's ``metric`` on the challenger's held-out rows."""
        request = request_from_run(self.runs.get(challenger_run_id), self.datasets)
        data = self.trainer.prepare(request)
        champion = self.runs.get(champion_run_id)
        features = champion.features
        if features is None:
            raise InvalidInput(f"run {champion_run_id} records no feature list")
        missing = [name for name in features if name not in data.frame.columns]
        if missing:
            raise InvalidInput(
                f"the champion needs features {', '.join(missing)}, absent from {request.dataset}"
            )
        model = tracking.load_model(self.tracking_uri, champion_run_id)
        rows = data.frame.iloc[data.test_rows][features]
        classes = list(model.classes_)
        metrics = classification_metrics(
            data.y_test.to_numpy(),
            model.predict(rows),
            model.predict_proba(rows),
            classes,
            recorded_positive(classes, champion.positive_class, champion.run_name),
        )
        if metric not in metrics:
            raise InvalidInput(f"metric {metric!r} is not one of {', '.join(sorted(metrics))}")
        return metrics[metric]

    def verdict(
        self, name: str, challenger_run_id: str, value: float | None, metric: str, margin: float
    ) -> Verdict:
        """Whether the challenger's ``value`` of ``metric`` beats ``name@champion`` by ``margin``."""
        check = f"beats {name}@{CHAMPION} on {metric}" + (f" by {margin:g}" if margin else "")
        if value is None:
            return Verdict(check, False, f"no metric {metric!r} for the challenger")
        champion = self.lookup.alias(name, CHAMPION)
        if champion is None:
            return Verdict(check, True, f"{name} has no {CHAMPION} yet; nothing to beat", value)
        if champion.run_id == challenger_run_id:
            return Verdict(
                check, True, f"the run is {name} v{champion.version}, the {CHAMPION} itself", value
            )
        try:
            score = self.score(champion.run_id, challenger_run_id, metric)
        except InvalidInput as error:
            return Verdict(
                check, False, f"{name} v{champion.version} cannot be scored on the challenger's rows: {error}"
            )
        lower = lower_is_better(metric)
        passed = value <= score - margin if lower else value >= score + margin
        relation = "beats" if passed else "does not beat"
        wanted = (f" - {margin:g}" if lower else f" + {margin:g}") if margin else ""
        return Verdict(
            check,
            passed,
            f"{metric} {value:.4f} {relation} {name} v{champion.version}'s {score:.4f}{wanted}"
            " on the same held-out rows",
            value,
        )
