"""The run's figures, as in the seed: a confusion matrix and the most important features.

They are drawn in a short-lived child process (``python -m engine.training.figures``), never
in the process that owns the workspace, whose GIL the console's event loop shares: measured
here, importing matplotlib took 0.5-0.7 s and each pair of figures 0.3-0.5 s of CPU, holding
the GIL up to ~60 ms at a time, and the import's allocations set off full garbage collections
that stalled the console for hundreds of milliseconds (docs/benchmarks.md). The child gets
only small, already computed numbers (the confusion matrix and the top importances, as JSON
on stdin), so it imports matplotlib and numpy but not scikit-learn, and it draws while the
parent saves the model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

TOP_FEATURES = 20
DPI = 80  # small PNGs render fast
CONFUSION_MATRIX = "confusion_matrix.png"
FEATURE_IMPORTANCE = "feature_importance.png"
NICENESS = 10  # the child draws in the background: the console's threads come first


@dataclass(frozen=True)
class FigureData:
    """Everything both figures show, as plain lists so it travels as JSON."""

    labels: list[str]
    matrix: list[list[int]]  # rows: true label, columns: predicted label, in ``labels`` order
    names: list[str]  # the most important features, least important first
    importance: list[float]

    @classmethod
    def from_predictions(
        cls, truth: np.ndarray, predicted: np.ndarray, labels: list[Any], names: list[str], importance: Any
    ) -> FigureData:
        import numpy as np
        from sklearn.metrics import confusion_matrix

        values = np.asarray(importance, dtype=float)
        top = np.argsort(values)[-TOP_FEATURES:]
        return cls(
            [str(label) for label in labels],
            confusion_matrix(truth, predicted, labels=labels).tolist(),
            [str(names[i]) for i in top],
            values[top].tolist(),
        )


class FigureDrawing:
    """The child process drawing one run's figures into ``folder``.

    Start it, do other work, then ``wait()``: waiting blocks on a pipe, without the GIL. Leaving
    the ``with`` block on an error kills the child instead of waiting for it.
    """

    def __init__(self, data: FigureData, folder: Path) -> None:
        source = str(Path(__file__).resolve().parents[2])  # the engine importable from any cwd
        path = os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "engine.training.figures", str(folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
        )
        self._input = json.dumps(asdict(data)).encode()

    def __enter__(self) -> FigureDrawing:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None and self._process.returncode is None:
            self._process.kill()
            self._process.wait()

    def wait(self) -> None:
        """Until both PNGs are written; an error carries the end of the child's stderr."""
        _, error = self._process.communicate(self._input)
        if self._process.returncode != 0:
            raise RuntimeError(
                f"drawing the run's figures failed (exit {self._process.returncode}): "
                + error.decode(errors="replace").strip()[-2000:]
            )


def draw(data: FigureData, folder: Path) -> None:
    """Both PNGs, in this process: the child's work."""
    import matplotlib

    matplotlib.use("Agg")
    confusion_matrix_png(data, folder / CONFUSION_MATRIX)
    feature_importance_png(data, folder / FEATURE_IMPORTANCE)


def confusion_matrix_png(data: FigureData, path: Path) -> None:
    """Drawn like scikit-learn's ``ConfusionMatrixDisplay`` (viridis, counts in the cells)."""
    import matplotlib.pyplot as plt
    import numpy as np

    matrix = np.asarray(data.matrix)
    figure, axes = plt.subplots(figsize=(4.5, 4))
    image = axes.imshow(matrix, interpolation="nearest", cmap="viridis")
    threshold = (matrix.max() + matrix.min()) / 2.0 if matrix.size else 0
    for (row, column), count in np.ndenumerate(matrix):
        colour = image.cmap(0 if count > threshold else 256)
        axes.text(column, row, f"{count:d}", ha="center", va="center", color=colour)
    ticks = np.arange(len(data.labels))
    axes.set(
        xticks=ticks,
        yticks=ticks,
        xticklabels=data.labels,
        yticklabels=data.labels,
        xlabel="Predicted label",
        ylabel="True label",
        title="Confusion matrix (held-out rows)",
    )
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)


def feature_importance_png(data: FigureData, path: Path) -> None:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 0.3 * len(data.names) + 1.2))
    axes.barh(data.names, data.importance)
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


def _main(argv: list[str]) -> None:
    """``python -m engine.training.figures FOLDER`` with the ``FigureData`` JSON on stdin."""
    os.nice(NICENESS)
    draw(FigureData(**json.load(sys.stdin)), Path(argv[0]))


if __name__ == "__main__":
    _main(sys.argv[1:])
