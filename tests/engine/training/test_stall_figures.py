"""The run's figures are drawn by a child process, never by the process owning the workspace
(whose GIL the console's event loop shares)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from engine.facade import Engine
from engine.training import figures
from tests.conftest import REPO_ROOT

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_figure_data_holds_the_confusion_matrix_and_the_top_features() -> None:
    truth = np.array(["no", "no", "yes", "yes", "yes"])
    predicted = np.array(["no", "yes", "yes", "yes", "no"])
    names = [f"f{i}" for i in range(30)]
    data = figures.FigureData.from_predictions(truth, predicted, ["no", "yes"], names, np.arange(30.0))
    assert data.labels == ["no", "yes"]
    assert data.matrix == [[1, 1], [1, 2]]  # rows true, columns predicted
    assert data.names == [f"f{i}" for i in range(10, 30)]  # the 20 largest, least important first
    assert data.importance == [float(i) for i in range(10, 30)]
    json.dumps(data.__dict__)  # it travels as JSON


def test_a_child_process_draws_both_pngs(tmp_path: Path) -> None:
    data = figures.FigureData(["0", "1"], [[5, 1], [2, 7]], ["age", "tenure"], [0.2, 0.8])
    with figures.FigureDrawing(data, tmp_path) as drawing:
        drawing.wait()
    for name in (figures.CONFUSION_MATRIX, figures.FEATURE_IMPORTANCE):
        assert (tmp_path / name).read_bytes().startswith(PNG_SIGNATURE)


def test_a_failed_drawing_raises_with_the_childs_error(tmp_path: Path) -> None:
    data = figures.FigureData(["0", "1"], [[5, 1], [2, 7]], ["age"], [0.2])
    with figures.FigureDrawing(data, tmp_path / "missing") as drawing, pytest.raises(RuntimeError) as error:
        drawing.wait()
    assert "drawing the run's figures failed" in str(error.value)
    assert "No such file or directory" in str(error.value)


def test_an_error_while_drawing_kills_the_child(tmp_path: Path) -> None:
    data = figures.FigureData(["0", "1"], [[5, 1], [2, 7]], ["age"], [0.2])
    with pytest.raises(KeyError), figures.FigureDrawing(data, tmp_path) as drawing:
        raise KeyError("saving the model failed")
    assert drawing._process.returncode is not None  # reaped, not left running


def test_training_never_imports_matplotlib_into_the_owner(workspace: Path) -> None:
    with Engine.open(workspace) as engine:
        engine.datasets.ingest(REPO_ROOT / "sample_data" / "churn_reference.csv", "churn")
    script = textwrap.dedent(
        f"""
        import json, sys
        from engine.facade import Engine
        from engine.types.training import TrainRequest
        with Engine.open({str(workspace)!r}) as engine:
            result = engine.training.train(
                TrainRequest("churn", "churned", params={{"n_estimators": "10"}})
            )
        print(json.dumps({{"matplotlib": "matplotlib" in sys.modules, "run": result.run_id}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout.splitlines()[-1])["matplotlib"] is False


def test_a_long_lived_owner_keeps_a_child_ready_and_it_draws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``keep_one_ready`` (Engine.warm_up): the next drawing takes a child that has imported
    matplotlib already, and another is started once that drawing is done."""
    monkeypatch.setattr(figures, "_keeping", False)
    monkeypatch.setattr(figures, "_ready", None)
    figures.keep_one_ready()
    ready = figures._ready
    assert ready is not None and ready.poll() is None
    try:
        data = figures.FigureData(["0", "1"], [[5, 1], [2, 7]], ["age", "tenure"], [0.2, 0.8])
        with figures.FigureDrawing(data, tmp_path) as drawing:
            assert drawing._process is ready
            drawing.wait()
        assert (tmp_path / figures.CONFUSION_MATRIX).read_bytes().startswith(PNG_SIGNATURE)
        following = figures._ready
        assert following is not None and following is not ready and following.poll() is None
        following.stdin.close()  # type: ignore[union-attr]  # its parent gone: it ends, quietly
        assert following.wait(60) == 0 and following.stderr.read() == b""  # type: ignore[union-attr]
    finally:
        monkeypatch.setattr(figures, "_keeping", False)
        left = figures._ready
        if left is not None and left.poll() is None:
            left.kill()
            left.wait()
