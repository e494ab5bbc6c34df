"""What an evaluation measured: metrics, curves, calibration, thresholds, business impact and
fairness per group, as stored in the workspace and shown by ``mlops eval`` and the console.

``to_dict`` gives the JSON shape ``--json`` prints and the workspace stores; ``from_dict``
reads it back, so a stored evaluation comes back whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

FAIRNESS_MEASURES = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equal_opportunity_difference",
    "equalized_odds_difference",
)


@dataclass(frozen=True)
class Confusion:
    """Counts at the 0.5 threshold."""

    tn: int
    fp: int
    fn: int
    tp: int


@dataclass(frozen=True)
class ClassScores:
    label: int
    precision: float
    recall: float
    f1: float
    support: int

    def to_dict(self) -> dict[str, Any]:
        """In scikit-learn's ``classification_report`` spelling."""
        return {
            "class": self.label,
            "precision": self.precision,
            "recall": self.recall,
            "f1-score": self.f1,
            "support": self.support,
        }


@dataclass(frozen=True)
class CalibrationBin:
    low: float
    high: float
    count: int
    mean_predicted: float  # NaN for an empty bin
    observed_rate: float


@dataclass(frozen=True)
class BestF1Threshold:
    threshold: float
    f1: float


@dataclass(frozen=True)
class CheapestThreshold:
    threshold: float
    cost: float


@dataclass(frozen=True)
class BusinessImpact:
    """What the mistakes cost at 0.5 and at the cheapest threshold, against acting on nobody
    (every positive missed) or on everybody (a false alarm for every negative)."""

    cost_false_negative: float
    cost_false_positive: float
    cost_at_0_5: float
    cost_at_cheapest: float
    cost_acting_on_nobody: float
    cost_acting_on_everybody: float
    savings_vs_best_baseline: float
    rows: float


@dataclass(frozen=True)
class Scores:
    metrics: dict[str, float]  # accuracy, precision, recall, f1, roc_auc, pr_auc, log_loss, brier
    confusion: Confusion
    per_class: list[ClassScores]
    calibration: list[CalibrationBin]
    roc: list[tuple[float, float, float]]  # fpr, tpr, threshold
    pr: list[tuple[float, float, float]]  # recall, precision, threshold
    best_f1_threshold: BestF1Threshold
    cheapest_threshold: CheapestThreshold
    business: BusinessImpact

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": self.metrics,
            "confusion": asdict(self.confusion),
            "per_class": [item.to_dict() for item in self.per_class],
            "calibration": [asdict(item) for item in self.calibration],
            "roc": [list(point) for point in self.roc],
            "pr": [list(point) for point in self.pr],
            "best_f1_threshold": asdict(self.best_f1_threshold),
            "cheapest_threshold": asdict(self.cheapest_threshold),
            "business": asdict(self.business),
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Scores:
        return cls(
            metrics=dict(document["metrics"]),
            confusion=Confusion(**document["confusion"]),
            per_class=[
                ClassScores(
                    item["class"], item["precision"], item["recall"], item["f1-score"], item["support"]
                )
                for item in document["per_class"]
            ],
            calibration=[CalibrationBin(**item) for item in document["calibration"]],
            roc=[(point[0], point[1], point[2]) for point in document["roc"]],
            pr=[(point[0], point[1], point[2]) for point in document["pr"]],
            best_f1_threshold=BestF1Threshold(**document["best_f1_threshold"]),
            cheapest_threshold=CheapestThreshold(**document["cheapest_threshold"]),
            business=BusinessImpact(**document["business"]),
        )


@dataclass(frozen=True)
class GroupRates:
    group: str
    rows: int
    positive_rate: float
    tpr: float | None  # None: the group has no actual positives
    fpr: float | None  # None: the group has no actual negatives
    precision: float | None  # None: nothing in the group was predicted positive
    too_small: bool


@dataclass(frozen=True)
class AttributeFairness:
    attribute: str
    groups: list[GroupRates]
    demographic_parity_difference: float | None
    demographic_parity_ratio: float | None
    equal_opportunity_difference: float | None
    equalized_odds_difference: float | None
    violations: list[str]

    @property
    def judged(self) -> bool:
        return self.demographic_parity_ratio is not None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "judged": self.judged}

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> AttributeFairness:
        names = {item.name for item in fields(cls)}
        return cls(
            **{
                **{key: value for key, value in document.items() if key in names},
                "groups": [GroupRates(**group) for group in document["groups"]],
            }
        )


@dataclass(frozen=True)
class Evaluation:
    id: int
    run_id: str
    subject: str  # what was scored: "run NAME" or "MODEL@ALIAS (vN)"
    dataset: str  # NAME@vN
    scope: str  # "held-out rows" or "all labelled rows"
    rows: int
    unlabelled_rows: int
    scores: Scores
    fairness: list[AttributeFairness]
    created_at: datetime

    def gate_metrics(self) -> dict[str, float]:
        """Every figure a pipeline gate can name: metrics, ``business.*``, ``fairness.ATTR.*``."""
        figures = dict(self.scores.metrics)
        figures.update({f"business.{k}": v for k, v in asdict(self.scores.business).items()})
        for item in self.fairness:
            for measure in FAIRNESS_MEASURES:
                value = getattr(item, measure)
                if value is not None:
                    figures[f"fairness.{item.attribute}.{measure}"] = value
        return figures

    @property
    def violations(self) -> list[str]:
        return [f"{item.attribute}: {text}" for item in self.fairness for text in item.violations]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "run_id": self.run_id,
            "subject": self.subject,
            "dataset": self.dataset,
            "scope": self.scope,
            "rows": self.rows,
            "unlabelled_rows": self.unlabelled_rows,
            **self.scores.to_dict(),
            "fairness": [item.to_dict() for item in self.fairness],
            "violations": self.violations,
            "created_at": self.created_at.isoformat(),
        }
