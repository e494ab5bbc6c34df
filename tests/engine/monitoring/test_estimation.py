"""Performance estimation (CBPE) as NannyML 0.13 computes it: the same decision to calibrate and
the same five estimates, NannyML itself run on the same scores in a subprocess (it is not a
dependency: `make test` installs it apart, in .venv/reference-tools)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.monitoring.estimation import calibration, estimate

REFERENCE_TOOLS = Path(sys.prefix) / "reference-tools"
METRICS = ("roc_auc", "f1", "precision", "recall", "accuracy")
NANNYML = """
import json, sys, warnings
import numpy as np, pandas as pd
warnings.filterwarnings("ignore")
import nannyml
data, METRICS = np.load(sys.argv[1]), sys.argv[2].split(",")
reference = pd.DataFrame({"y_true": data["truth"], "y_pred_proba": data["scores"],
                          "y_pred": (data["scores"] >= 0.5).astype(int)})
analysis = pd.DataFrame({"y_pred_proba": data["live"], "y_pred": (data["live"] >= 0.5).astype(int)})
estimator = nannyml.CBPE(y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="y_true",
                         problem_type="classification_binary", metrics=METRICS, chunk_size=len(analysis))
estimator.fit(reference)
found = estimator.estimate(analysis).filter(period="analysis").to_df()
print(json.dumps({"calibrated": bool(estimator.needs_calibration),
                  **{m: float(found[(m, "value")].iloc[0]) for m in METRICS}}))
"""


def nannyml(truth: np.ndarray, scores: np.ndarray, live: np.ndarray, folder: Path) -> dict[str, float]:
    data = folder / "scores.npz"
    np.savez(data, truth=truth, scores=scores, live=live)
    environment = {**os.environ, "PYTHONPATH": str(REFERENCE_TOOLS), "NML_DISABLE_USAGE_LOGGING": "1"}
    command = [sys.executable, "-c", NANNYML, str(data), ",".join(METRICS)]
    done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def logistic(values: np.ndarray, slope: float, offset: float = 0.0) -> np.ndarray:
    return np.asarray(1 / (1 + np.exp(-(slope * values + offset))))


@pytest.mark.parametrize(
    ("case", "reference_rows", "live_rows"),
    [("overconfident", 4000, 3000), ("calibrated", 3000, 2000), ("separated", 1000, 500), ("few", 800, 40)],
)
def test_estimates_agree_with_nannyml(case: str, reference_rows: int, live_rows: int, tmp_path: Path) -> None:
    generator = np.random.default_rng(len(case))
    inputs = generator.normal(0, 1, reference_rows)
    live_inputs = generator.normal(0.6, 1.3, live_rows)  # the inputs shifted: the scores show it
    chance = logistic(inputs, 2.0)
    truth = (generator.random(reference_rows) < chance).astype(int)
    scores = {
        "overconfident": logistic(inputs, 3.5, 0.3),
        "calibrated": chance,
        "separated": np.where(truth == 1, 0.6 + 0.4 * generator.random(reference_rows), 0.4 * chance),
        "few": logistic(inputs, 1.2),
    }[case]
    live = {
        "overconfident": logistic(live_inputs, 3.5, 0.3),
        "calibrated": logistic(live_inputs, 2.0),
        "separated": generator.random(live_rows),
        "few": logistic(live_inputs, 1.2),
    }[case]
    theirs = nannyml(truth, scores, live, tmp_path)
    calibrated = calibration(truth, scores)
    assert (calibrated.regressor is not None) == theirs["calibrated"]
    mine = estimate(live >= 0.5, live, calibrated)
    for metric in METRICS:
        assert getattr(mine, metric) == pytest.approx(theirs[metric], rel=1e-9), metric
