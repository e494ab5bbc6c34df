"""Sweep wall time with one worker process and with two, on the same 8-trial grid."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from engine.facade import Engine
from engine.types.training import SweepRequest, TrainRequest, parse_grid

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
GRID = ["n_estimators=100,200", "max_depth=5,10", "min_samples_leaf=1,5"]


def main() -> None:
    timings = {}
    with tempfile.TemporaryDirectory() as folder:
        engine, _ = Engine.init(Path(folder) / "ws", command="benchmark")
        with engine:
            engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
            base = TrainRequest("churn", "churned", "random_forest")
            for workers in (1, 2):
                started = time.perf_counter()
                result = engine.training.sweep(SweepRequest(base, parse_grid(GRID), workers=workers))
                timings[workers] = (time.perf_counter() - started, sum(t.fit_seconds for t in result.trials))
    print(f"### Sweep: {len(result.trials)}-trial random forest grid on the 20k-row sample\n")
    print("| workers | wall time | sum of trial fit times |")
    print("| --- | ---: | ---: |")
    for workers, (wall, fits) in timings.items():
        print(f"| {workers} | {wall:.1f} s | {fits:.1f} s |")
    print(f"\nspeed-up with 2 workers: {timings[1][0] / timings[2][0]:.2f}x\n")


if __name__ == "__main__":
    main()
