"""The run's figures, as in the seed: a confusion matrix and the most important features."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

TOP_FEATURES = 20
DPI = 80  # small PNGs render fast; Agg holds the GIL while it draws


def confusion_matrix_png(truth: np.ndarray, predicted: np.ndarray, labels: list[Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    figure, axes = plt.subplots(figsize=(4.5, 4))
    ConfusionMatrixDisplay.from_predictions(truth, predicted, labels=labels, ax=axes, colorbar=False)
    axes.set_title("Confusion matrix (held-out rows)")
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)


def feature_importance_png(names: list[str], importance: np.ndarray, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    order = np.argsort(importance)[-TOP_FEATURES:]
    figure, axes = plt.subplots(figsize=(6, 0.3 * len(order) + 1.2))
    axes.barh([names[i] for i in order], importance[order])
    axes.set_title("Feature importance")
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)


def feature_importance(model: Any) -> np.ndarray | None:
    """Impurity importance for trees, |coefficient| for linear models; None otherwise."""
    import numpy as np

    if hasattr(model, "feature_importances_"):
        return np.asarray(model.feature_importances_)
    if hasattr(model, "coef_"):
        coefficients: np.ndarray = np.abs(np.asarray(model.coef_)).mean(axis=0)
        return coefficients
    return None
