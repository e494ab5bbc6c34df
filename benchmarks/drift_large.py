"""Drift at scale: 1,000,000 reference rows against 1,000,000 current rows, 20 columns (15
numbers, 5 categories), generated; the check with the reference read, and with it kept from an
earlier check. (Evidently on the same frames takes minutes a run; benchmarks/drift.py sets the
two side by side at 100,000.)"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.timing import median_seconds
from engine.facade import Engine

ROWS = 1_000_000
RUNS = 3


def frame(rows: int, shift: float, seed: int) -> object:
    import numpy as np
    import pandas as pd

    generator = np.random.default_rng(seed)
    columns = {f"number_{i}": generator.normal(shift * (i % 3), 1 + i % 4, rows) for i in range(15)}
    for i in range(5):
        columns[f"category_{i}"] = generator.choice([f"value_{k}" for k in range(8 + i)], rows)
    return pd.DataFrame(columns)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine, _ = Engine.init(Path(folder) / "ws", command="benchmark")
        with engine:
            engine.datasets.ingest_frame(frame(ROWS, 0.0, 1), "reference", "benchmark")
            engine.datasets.ingest_frame(frame(ROWS, 0.05, 2), "current", "benchmark")

            def cold() -> object:
                engine.drift._kept.clear()
                return engine.drift.check("reference@v1", "current@v1")

            read = median_seconds(cold, RUNS)
            kept = median_seconds(lambda: engine.drift.check("reference@v1", "current@v1"), RUNS)
    print(f"### Drift at {ROWS:,} x 20 (15 numbers, 5 categories)\n")
    print("| check | seconds (median of 3) |")
    print("| --- | ---: |")
    print(f"| the reference read | {read:.2f} |")
    print(f"| the reference kept from an earlier check | {kept:.2f} |")
    print()
