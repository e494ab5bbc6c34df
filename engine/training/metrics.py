"""Held-out classification metrics, as MLflow records them and the seed's table names them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def classification_metrics(
    truth: np.ndarray, predicted: np.ndarray, probabilities: np.ndarray
) -> dict[str, float]:
    """accuracy, precision, recall, f1, roc_auc, pr_auc, log_loss.

    Binary targets score the positive (larger) class; more classes average per class
    (macro), with one-vs-rest ROC AUC.
    """
    from sklearn import metrics

    classes = probabilities.shape[1]
    if classes == 2:
        positive = probabilities[:, 1]
        averaged = {"average": "binary", "zero_division": 0}
        roc_auc = metrics.roc_auc_score(truth, positive)
        pr_auc = metrics.average_precision_score(truth, positive)
    else:
        averaged = {"average": "macro", "zero_division": 0}
        roc_auc = metrics.roc_auc_score(truth, probabilities, multi_class="ovr")
        pr_auc = float("nan")
    return {
        "accuracy": float(metrics.accuracy_score(truth, predicted)),
        "precision": float(metrics.precision_score(truth, predicted, **averaged)),
        "recall": float(metrics.recall_score(truth, predicted, **averaged)),
        "f1": float(metrics.f1_score(truth, predicted, **averaged)),
        "roc_auc": float(roc_auc),
        "pr_auc": float(pr_auc),
        "log_loss": float(metrics.log_loss(truth, probabilities)),
    }
