"""The runs table's refresh during a sweep: one trial more in 500 runs, refilled or updated.

The real ``RunsView`` in a headless app (Textual's test driver, rendering included). Each
refresh adds one run, placed by its f1 among the others as a sweep's new trial is; the time is
the event loop's, from the start of the refresh until the app is idle again (the table's
measuring, layout and repaint included). Compared: clearing the table and adding every row
again (what the screen did before 9c1b5a9, kept here as the baseline) and ``show_rows``.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

SIZES = (50, 500)  # runs already shown; 500 is the most the screen shows
REFRESHES = 30


def synthetic_runs(count: int, seed: int) -> list[Any]:
    from engine.types.training import RUN_METRICS, Run

    rng = random.Random(seed)
    runs = []
    for number in range(count):
        metrics = {name: rng.random() for name in RUN_METRICS}
        tags = {"mlops.model": "random_forest", "mlops.dataset": "churn", "mlops.dataset_version": "1"}
        runs.append(
            Run(
                f"{number:032x}",
                f"trial-{number}",
                "FINISHED",
                number,
                number,
                "1",
                "default",
                metrics,
                {},
                tags,
            )
        )
    return runs


def refill(view: Any, runs: list[Any]) -> None:
    """The baseline: every row cleared and added again."""
    table = view.table
    table.clear()
    for run in runs:
        table.add_row(*view._row(run), key=run.run_id)


async def measure(refresh: Callable[[Any, list[Any]], None], shown: int) -> list[float]:
    from textual.app import App, ComposeResult

    from console.screens.experiments.runs_view import RunsView

    class RunsApp(App[None]):
        def compose(self) -> ComposeResult:
            yield RunsView(id="runs-panel")

    app = RunsApp()
    timings = []
    async with app.run_test(size=(150, 40)) as pilot:
        view = app.query_one(RunsView)
        runs = sorted(synthetic_runs(shown, seed=1), key=lambda run: -run.metrics["f1"])
        refresh(view, runs)
        await pilot.pause()
        for number, trial in enumerate(synthetic_runs(REFRESHES, seed=2)):
            trial = type(trial)(**{**trial.__dict__, "run_id": f"new{number}", "run_name": f"new-{number}"})
            runs = sorted([*runs, trial], key=lambda run: -run.metrics["f1"])
            started = time.perf_counter()
            refresh(view, runs)
            await pilot.pause()
            timings.append(time.perf_counter() - started)
    return timings


def main() -> None:
    approaches = {
        "clear and refill (before)": refill,
        "`show_rows`, in place (now)": lambda view, runs: view.show(runs, "metrics.f1 DESC"),
    }
    print("### The runs table's refresh during a sweep (one trial more per refresh)\n")
    print(f"| runs shown | refresh | median | max (of {REFRESHES}) |")
    print("| ---: | --- | ---: | ---: |")
    for shown in SIZES:
        for label, refresh in approaches.items():
            timings = asyncio.run(measure(refresh, shown))
            median, longest = statistics.median(timings) * 1000, max(timings) * 1000
            print(f"| {shown} | {label} | {median:.1f} ms | {longest:.1f} ms |")
    print()


if __name__ == "__main__":
    main()
