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
CASES = {
    "overconfident": (4000, 3000),
    "calibrated": (3000, 2000),
    "separated": (1000, 500),
    "few": (800, 40),
}
NANNYML = """
import json, sys, warnings
import numpy as np, pandas as pd
warnings.filterwarnings("ignore")
import nannyml
METRICS = sys.argv[2].split(",")
found = {}
for case, data in np.load(sys.argv[1], allow_pickle=True)["cases"].item().items():
    reference = pd.DataFrame({"y_true": data["truth"], "y_pred_proba": data["scores"],
                              "y_pred": (data["scores"] >= 0.5).astype(int)})
    analysis = pd.DataFrame({"y_pred_proba": data["live"], "y_pred": (data["live"] >= 0.5).astype(int)})
    estimator = nannyml.CBPE(y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="y_true",
                             problem_type="classification_binary", metrics=METRICS, chunk_size=len(analysis))
    estimator.fit(reference)
    result = estimator.estimate(analysis).filter(period="analysis").to_df()
    found[case] = {"calibrated": bool(estimator.needs_calibration),
                   **{m: float(result[(m, "value")].iloc[0]) for m in METRICS}}
print(json.dumps(found))
"""


def logistic(values: np.ndarray, slope: float, offset: float = 0.0) -> np.ndarray:
    return np.asarray(1 / (1 + np.exp(-(slope * values + offset))))


def generated(case: str) -> dict[str, np.ndarray]:
    """Held-out truth and scores, and live scores of shifted inputs (the scores show the shift)."""
    reference_rows, live_rows = CASES[case]
    generator = np.random.default_rng(len(case))
    inputs = generator.normal(0, 1, reference_rows)
    live_inputs = generator.normal(0.6, 1.3, live_rows)
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
    return {"truth": truth, "scores": scores, "live": live}


@pytest.fixture(scope="module")
def theirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, float]]:
    """NannyML's calibration decision and estimates for every case, from one subprocess."""
    data = tmp_path_factory.mktemp("nannyml") / "cases.npz"
    np.savez(data, cases=np.array({case: generated(case) for case in CASES}, dtype=object))
    environment = {**os.environ, "PYTHONPATH": str(REFERENCE_TOOLS), "NML_DISABLE_USAGE_LOGGING": "1"}
    command = [sys.executable, "-c", NANNYML, str(data), ",".join(METRICS)]
    done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("case", sorted(CASES))
def test_estimates_agree_with_nannyml(case: str, theirs: dict[str, dict[str, float]]) -> None:
    data = generated(case)
    calibrated = calibration(data["truth"], data["scores"])
    assert (calibrated.regressor is not None) == theirs[case]["calibrated"]
    mine = estimate(data["live"] >= 0.5, data["live"], calibrated)
    for metric in METRICS:
        assert getattr(mine, metric) == pytest.approx(theirs[case][metric], rel=1e-9), metric
