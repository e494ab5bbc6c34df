"""Performance before the labels arrive: confidence-based performance estimation (CBPE), as
NannyML 0.13 computes it for a binary classifier.

A calibrated score is the chance that the row is positive, so over a window of predictions
the expected confusion matrix follows from the scores alone: a row predicted positive adds its
score to the true positives and the rest to the false positives, a row predicted negative its
score to the false negatives and the rest to the true negatives. Accuracy, precision, recall
and F1 come from that matrix; ROC AUC from the curve the calibrated scores trace when the rows
are ranked by the model's own scores.

The scores are calibrated first where that helps: an isotonic regression fitted on the model's
held-out rows (scores and truth), kept only if, over ten stratified 90/10 splits, it lowers the
expected calibration error (NannyML's ``needs_calibration``, random state 42, 10 bins).

What it cannot see: a change in how the truth relates to the inputs (concept drift) that
leaves the inputs and so the scores unchanged. The estimate then stays where the model was
evaluated while the realised metric falls; only the late labels show it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.types.monitoring import EstimatedMetrics

if TYPE_CHECKING:
    import numpy as np

ECE_BINS = 10
SPLITS = 10
ALREADY_SEPARATED_AUC = 0.999  # NannyML skips calibrating scores that already rank perfectly


@dataclass(frozen=True)
class Calibration:
    """How a model's scores are turned into probabilities: an isotonic map fitted on its
    held-out rows, or the scores as they are (``regressor`` None)."""

    regressor: Any = None

    def apply(self, scores: np.ndarray) -> np.ndarray:
        import numpy as np

        return np.asarray(scores, dtype=float) if self.regressor is None else self.regressor.predict(scores)


def calibration(truth: np.ndarray, scores: np.ndarray) -> Calibration:
    """The calibration NannyML's CBPE would use for a model whose held-out rows have ``truth``
    (1 positive, 0 not) and ``scores``."""
    import numpy as np
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedShuffleSplit

    truth, scores = np.asarray(truth), np.asarray(scores, dtype=float)
    if len(np.unique(truth)) == 1 or roc_auc_score(truth, scores) > ALREADY_SEPARATED_AUC:
        return Calibration()
    splits = StratifiedShuffleSplit(n_splits=SPLITS, test_size=0.1, random_state=42)
    tested_truth, tested_scores, calibrated = [], [], []
    for train, test in splits.split(scores, truth):
        regressor = _isotonic().fit(scores[train], truth[train])
        tested_truth.append(truth[test])
        tested_scores.append(scores[test])
        calibrated.append(regressor.predict(scores[test]))
    all_truth = np.concatenate(tested_truth)
    edges = _bin_edges(len(all_truth))
    before = _calibration_error(all_truth, np.concatenate(tested_scores), edges)
    after = _calibration_error(all_truth, np.concatenate(calibrated), edges)
    return Calibration(_isotonic().fit(scores, truth)) if before > after else Calibration()


def estimate(predicted_positive: np.ndarray, scores: np.ndarray, calibrated: Calibration) -> EstimatedMetrics:
    """The expected metrics of a window of predictions (``predicted_positive``: the label the
    model answered was its positive class) from their ``scores`` alone."""
    import numpy as np

    said = np.asarray(predicted_positive, dtype=bool)
    probability = calibrated.apply(scores)
    true_positive = float(np.sum(np.where(said, probability, 0)))
    false_positive = float(np.sum(np.where(said, 1 - probability, 0)))
    false_negative = float(np.sum(np.where(~said, probability, 0)))
    true_negative = float(np.sum(np.where(~said, 1 - probability, 0)))

    def ratio(numerator: float, denominator: float) -> float:
        return numerator / denominator if denominator != 0 else 0.0

    return EstimatedMetrics(
        (true_positive + true_negative) / len(said),
        ratio(true_positive, true_positive + false_positive),
        ratio(true_positive, true_positive + false_negative),
        ratio(true_positive, true_positive + 0.5 * (false_positive + false_negative)),
        _roc_auc(probability, np.asarray(scores, dtype=float)),
    )


def _roc_auc(probability: np.ndarray, scores: np.ndarray) -> float | None:
    """The expected ROC curve: rows ranked by the model's scores, each adding its calibrated
    probability to the true positives and the rest to the false (rounded as NannyML does)."""
    import numpy as np
    from sklearn.metrics import auc

    if len(scores) < 2:
        return None
    ranked = np.argsort(scores)[::-1]
    expected_true = np.cumsum(probability[ranked])
    expected_false = 1 + np.arange(len(ranked)) - expected_true
    true_positives = np.asarray(np.round(np.r_[0, expected_true], 5))
    false_positives = np.asarray(np.round(np.r_[0, expected_false], 5))
    if true_positives[-1] == 0 or false_positives[-1] == 0:
        return None
    return float(auc(false_positives / false_positives[-1], true_positives / true_positives[-1]))


def _isotonic() -> Any:
    from sklearn.isotonic import IsotonicRegression

    return IsotonicRegression(out_of_bounds="clip", increasing=True)


def _bin_edges(length: int) -> list[tuple[int, int]]:
    """Equal-count bins over ``length`` sorted rows (NannyML's ``_get_bin_index_edges``)."""
    bins = ECE_BINS if length > 2 * ECE_BINS else max(1, length // 2)
    width = length // bins
    edges = list(range(0, length + 1, width))
    edges[-1] = length
    return list(itertools.pairwise(edges))


def _calibration_error(truth: np.ndarray, scores: np.ndarray, edges: list[tuple[int, int]]) -> float:
    """The expected calibration error over equal-count bins of the sorted scores."""
    import numpy as np

    order = scores.argsort()
    scores, truth = scores[order], truth[order]
    return float(
        sum(
            (right - left) / len(scores) * abs(np.mean(scores[left:right]) - np.mean(truth[left:right]))
            for left, right in edges
        )
    )
