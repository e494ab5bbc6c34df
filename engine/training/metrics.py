"""Held-out classification metrics, as MLflow records them and the seed's table names them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


def classification_metrics(
    truth: np.ndarray,
    predicted: np.ndarray,
    probabilities: np.ndarray,
    classes: Sequence[Any],
    positive: Any | None,
) -> dict[str, float]:
    """accuracy, precision, recall, f1, roc_auc, pr_auc, log_loss.

    ``probabilities`` has a column per entry of ``classes`` (the model's ``classes_``). A binary
    target scores its ``positive`` class (labels.py), whatever its labels are spelled, by
    turning truth and predictions into positive-or-not first: scikit-learn's scorers would
    otherwise assume ``pos_label=1``. More classes average per class (macro), with one-vs-rest
    ROC AUC. A figure the held-out rows cannot give (ROC AUC without both classes, say, after
    a time split) is NaN rather than an error.
    """
    import numpy as np
    from sklearn import metrics

    if positive is not None:
        column = list(classes).index(positive)
        truth, predicted = (truth == positive).astype(int), (predicted == positive).astype(int)
        scores = probabilities[:, column]
        probabilities, classes = probabilities[:, [1 - column, column]], [0, 1]
        averaged: dict[str, Any] = {"average": "binary", "zero_division": 0}
        ranked = len(np.unique(truth)) == 2
        roc_auc = metrics.roc_auc_score(truth, scores) if ranked else float("nan")
        pr_auc = metrics.average_precision_score(truth, scores) if ranked else float("nan")
    else:
        averaged = {"average": "macro", "zero_division": 0, "labels": list(classes)}
        ranked = set(np.unique(truth).tolist()) == set(classes)
        roc_auc = (
            metrics.roc_auc_score(truth, probabilities, multi_class="ovr", labels=list(classes))
            if ranked
            else float("nan")
        )
        pr_auc = float("nan")
    return {
        "accuracy": float(metrics.accuracy_score(truth, predicted)),
        "precision": float(metrics.precision_score(truth, predicted, **averaged)),
        "recall": float(metrics.recall_score(truth, predicted, **averaged)),
        "f1": float(metrics.f1_score(truth, predicted, **averaged)),
        "roc_auc": float(roc_auc),
        "pr_auc": float(pr_auc),
        "log_loss": float(metrics.log_loss(truth, probabilities, labels=list(classes))),
    }
