"""How long the console's event loop stalls while a sweep runs in its worker.

The real app runs headless (Textual's test driver, rendering included) on a workspace with
the sample data; a 10 ms interval timer records when it fires while the Experiments screen
runs an 8-trial random forest sweep with 2 worker processes. The longest gap between ticks,
minus the interval, is the longest stall a user would feel. Target: under 100 ms.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from itertools import pairwise
from pathlib import Path

from console.app import MlopsApp
from console.screens.experiments import ExperimentsScreen
from engine.facade import Engine
from engine.training import sweep
from engine.training.trainer import TrainRequest

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
INTERVAL = 0.01
GRID = ["n_estimators=100,200", "max_depth=5,10", "min_samples_leaf=1,5"]


async def measure(workspace: Path) -> list[list[float]]:
    """Stalls during two sweeps in one console session: the first imports pandas, scikit-learn,
    MLflow and matplotlib into the process, the second finds them loaded."""
    app = MlopsApp(Engine.claim(workspace, command="benchmark"))
    ticks: list[float] = []
    sweeps: list[list[float]] = []
    try:
        async with app.run_test(size=(150, 40)) as pilot:
            while app.engine is None:
                await pilot.pause(0.05)
            await pilot.press("4")
            screen = app.screen
            assert isinstance(screen, ExperimentsScreen)
            base = TrainRequest("churn", "churned", "random_forest")
            candidates = sweep.candidates_for(base, sweep.parse_grid(GRID), None)
            app.set_interval(INTERVAL, lambda: ticks.append(time.perf_counter()))
            for finished in (1, 2):
                ticks.clear()
                screen._sweep(base, candidates, 2)
                while sum("Sweep finished" in n.title for n in app._notifications) < finished:
                    await pilot.pause(0.1)
                sweeps.append([later - earlier - INTERVAL for earlier, later in pairwise(ticks)])
    finally:
        app.close_engine()
    return sweeps


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine, _ = Engine.init(Path(folder) / "ws", command="benchmark")
        with engine:
            engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        sweeps = asyncio.run(measure(Path(folder) / "ws"))
    print("### Console responsiveness during an 8-trial sweep (2 workers), 10 ms timer\n")
    print("| sweep | ticks | longest stall | p99 stall | median stall |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, stalls in zip(("first in the session", "second"), sweeps, strict=True):
        cuts = statistics.quantiles(stalls, n=100)
        longest, p99, median = max(stalls) * 1000, cuts[98] * 1000, statistics.median(stalls) * 1000
        print(f"| {label} | {len(stalls):,} | {longest:.0f} ms | {p99:.0f} ms | {median:.1f} ms |")
    print()


if __name__ == "__main__":
    main()
