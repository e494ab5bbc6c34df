"""What a binary classifier's predictions are worth: metrics, curves, calibration, thresholds.

Pure functions over arrays (truth 0/1, probability of the positive class), so the same code
scores a run's held-out rows, a production week joined with its late labels, or a champion
on a challenger's rows. Curves are thinned to at most ``CURVE_POINTS`` points: enough to draw
in a terminal or a report, small enough to store with every evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.types.evaluation import (
    BestF1Threshold,
    BusinessImpact,
    CalibrationBin,
    CheapestThreshold,
    ClassScores,
    Confusion,
    Scores,
)

if TYPE_CHECKING:
    import numpy as np

CURVE_POINTS = 101
CALIBRATION_BINS = 10


@dataclass(frozen=True)
class Costs:
    """The price of each mistake: a missed positive, a false alarm."""

    false_negative: float
    false_positive: float


def score(truth: np.ndarray, probability: np.ndarray, costs: Costs) -> Scores:
    """Everything measured on one set of labelled predictions (threshold 0.5 unless named)."""
    import numpy as np
    from sklearn import metrics

    truth = np.asarray(truth).astype(int)
    probability = np.clip(np.asarray(probability, dtype=float), 0.0, 1.0)
    if set(np.unique(truth)) - {0, 1}:
        raise ValueError("truth must hold 0/1 labels")
    predicted = (probability >= 0.5).astype(int)
    both_classes = len(np.unique(truth)) == 2
    tn, fp, fn, tp = (int(v) for v in metrics.confusion_matrix(truth, predicted, labels=[0, 1]).ravel())
    values = {
        "accuracy": float(metrics.accuracy_score(truth, predicted)),
        "precision": float(metrics.precision_score(truth, predicted, zero_division=0)),
        "recall": float(metrics.recall_score(truth, predicted, zero_division=0)),
        "f1": float(metrics.f1_score(truth, predicted, zero_division=0)),
        "roc_auc": float(metrics.roc_auc_score(truth, probability)) if both_classes else float("nan"),
        "pr_auc": float(metrics.average_precision_score(truth, probability))
        if both_classes
        else float("nan"),
        "log_loss": float(
            metrics.log_loss(truth, np.column_stack([1 - probability, probability]), labels=[0, 1])
        ),
        "brier": float(metrics.brier_score_loss(truth, probability)),
    }
    report = metrics.classification_report(truth, predicted, labels=[0, 1], output_dict=True, zero_division=0)
    per_class = [
        ClassScores(
            label,
            float(report[str(label)]["precision"]),
            float(report[str(label)]["recall"]),
            float(report[str(label)]["f1-score"]),
            int(report[str(label)]["support"]),
        )
        for label in (0, 1)
    ]
    best_f1, cheapest = _thresholds(truth, probability, costs)
    return Scores(
        metrics=values,
        confusion=Confusion(tn=tn, fp=fp, fn=fn, tp=tp),
        per_class=per_class,
        calibration=_calibration(truth, probability),
        roc=_roc(truth, probability) if both_classes else [],
        pr=_pr(truth, probability) if both_classes else [],
        best_f1_threshold=best_f1,
        cheapest_threshold=cheapest,
        business=_business(fn, fp, int(truth.sum()), int(len(truth) - truth.sum()), costs, cheapest),
    )


def _thin(points: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    if len(points) <= CURVE_POINTS:
        return points
    step = (len(points) - 1) / (CURVE_POINTS - 1)
    return [points[round(i * step)] for i in range(CURVE_POINTS)]


def _roc(truth: np.ndarray, probability: np.ndarray) -> list[tuple[float, float, float]]:
    from sklearn.metrics import roc_curve

    fpr, tpr, cut = roc_curve(truth, probability)
    return _thin([(float(f), float(t), float(min(c, 1.0))) for f, t, c in zip(fpr, tpr, cut, strict=True)])


def _pr(truth: np.ndarray, probability: np.ndarray) -> list[tuple[float, float, float]]:
    from sklearn.metrics import precision_recall_curve

    precision, recall, cut = precision_recall_curve(truth, probability)
    # The last point (recall 0, precision 1) has no threshold; it closes the curve at 1.0.
    cuts = [*cut.tolist(), 1.0]
    return _thin([(float(r), float(p), float(c)) for r, p, c in zip(recall, precision, cuts, strict=True)])


def _calibration(truth: np.ndarray, probability: np.ndarray) -> list[CalibrationBin]:
    """Equal-width bins of predicted probability: mean prediction vs observed rate per bin."""
    import numpy as np

    edges = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
    bins = np.clip(np.digitize(probability, edges[1:-1]), 0, CALIBRATION_BINS - 1)
    table = []
    for index in range(CALIBRATION_BINS):
        inside = bins == index
        count = int(inside.sum())
        table.append(
            CalibrationBin(
                low=float(edges[index]),
                high=float(edges[index + 1]),
                count=count,
                mean_predicted=float(probability[inside].mean()) if count else float("nan"),
                observed_rate=float(truth[inside].mean()) if count else float("nan"),
            )
        )
    return table


def _thresholds(
    truth: np.ndarray, probability: np.ndarray, costs: Costs
) -> tuple[BestF1Threshold, CheapestThreshold]:
    """The threshold that maximises f1 and the one that minimises the cost, over 0.01 … 0.99."""
    import numpy as np

    cuts = np.round(np.arange(0.01, 1.0, 0.01), 2)
    predicted = probability[None, :] >= cuts[:, None]
    positives = truth[None, :] == 1
    tp = (predicted & positives).sum(axis=1)
    fp = (predicted & ~positives).sum(axis=1)
    fn = (~predicted & positives).sum(axis=1)
    f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)
    cost = fn * costs.false_negative + fp * costs.false_positive
    best, cheapest = int(np.argmax(f1)), int(np.argmin(cost))
    return (
        BestF1Threshold(threshold=float(cuts[best]), f1=float(f1[best])),
        CheapestThreshold(threshold=float(cuts[cheapest]), cost=float(cost[cheapest])),
    )


def _business(
    fn: int, fp: int, positives: int, negatives: int, costs: Costs, cheapest: CheapestThreshold
) -> BusinessImpact:
    """The seed's ``calculate_business_impact`` made concrete: what the mistakes cost at 0.5 and at
    the cheapest threshold, against acting on nobody (every positive missed) or on everybody."""
    at_half = fn * costs.false_negative + fp * costs.false_positive
    nobody = positives * costs.false_negative
    everybody = negatives * costs.false_positive
    baseline = min(nobody, everybody)
    return BusinessImpact(
        cost_false_negative=costs.false_negative,
        cost_false_positive=costs.false_positive,
        cost_at_0_5=float(at_half),
        cost_at_cheapest=float(cheapest.cost),
        cost_acting_on_nobody=float(nobody),
        cost_acting_on_everybody=float(everybody),
        savings_vs_best_baseline=float(baseline - cheapest.cost),
        rows=float(positives + negatives),
    )
