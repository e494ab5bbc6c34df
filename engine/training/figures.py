"""The run's figures, as in the seed: a confusion matrix and the most important features.

They are drawn in a short-lived child process (``python -m engine.training.figures``), never
in the process that owns the workspace, whose GIL the console's event loop shares: measured
here, importing matplotlib took 0.5-0.7 s and each pair of figures 0.3-0.5 s of CPU, holding
the GIL up to ~60 ms at a time, and the import's allocations set off full garbage collections
that stalled the console for hundreds of milliseconds (docs/benchmarks.md). The child gets
only small, already computed numbers (the confusion matrix and the top importances, as JSON
on stdin), so it imports matplotlib and numpy but not scikit-learn, and it draws while the
parent saves the model.

A long-lived owner (the console, ``mlops up``: ``Engine.warm_up``) keeps one child started
ahead, matplotlib already imported, waiting on stdin (``keep_one_ready``): a run takes it and
only waits for the drawing, and the next one is started once that drawing is done. That
import was most of a warm owner's train (measured in docs/benchmarks.md, forwarding).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
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
        self._process = _take_ready() or _start_child()
        # A few hundred bytes: the pipe takes them at once, and the child draws from now on.
        request = json.dumps({"folder": str(folder), "figures": asdict(data)}).encode()
        stdin = self._process.stdin
        assert stdin is not None
        try:
            stdin.write(request)
            stdin.close()
        except BrokenPipeError:  # the child died early; wait() reports its stderr
            pass

    def __enter__(self) -> FigureDrawing:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None and self._process.returncode is None:
            self._process.kill()
            self._process.wait()

    def wait(self) -> None:
        """Until both PNGs are written; an error carries the end of the child's stderr."""
        stderr = self._process.stderr
        assert stderr is not None
        error = stderr.read()
        self._process.wait()
        _replenish()
        if self._process.returncode != 0:
            raise RuntimeError(
                f"drawing the run's figures failed (exit {self._process.returncode}): "
                + error.decode(errors="replace").strip()[-2000:]
            )


_ready_lock = threading.Lock()
_ready: subprocess.Popen[bytes] | None = None
_keeping = False


def keep_one_ready() -> None:
    """From now on keep a child started ahead for the next run (in a long-lived process: a
    one-off command would leave it behind for nothing)."""
    global _keeping
    _keeping = True
    _replenish()


def _take_ready() -> subprocess.Popen[bytes] | None:
    """The child started ahead, if it is still waiting (None: start one now)."""
    global _ready
    with _ready_lock:
        child, _ready = _ready, None
    return child if child is not None and child.poll() is None else None


def _replenish() -> None:
    global _ready
    with _ready_lock:
        if _keeping and (_ready is None or _ready.poll() is not None):
            _ready = _start_child()


def _start_child() -> subprocess.Popen[bytes]:
    """A child that imports matplotlib, then draws what it reads on stdin; it ends quietly if
    stdin closes first (its parent exited while it waited)."""
    source = str(Path(__file__).resolve().parents[2])  # the engine importable from any cwd
    path = os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-m", "engine.training.figures"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": path},
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


def _main() -> None:
    """``python -m engine.training.figures`` with ``{"folder": …, "figures": FigureData}`` on
    stdin, read once matplotlib is imported (so a child started ahead is ready to draw)."""
    os.nice(NICENESS)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot

    text = sys.stdin.read()
    if not text:
        return  # the parent went away before it had anything to draw
    request = json.loads(text)
    draw(FigureData(**request["figures"]), Path(request["folder"]))


if __name__ == "__main__":
    _main()
