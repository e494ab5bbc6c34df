"""The live console under load: the event-loop stall of the first switch to each screen, and
the longest stall while the server takes replayed traffic at 200 req/s, drift checks run and
a sweep trains, the user watching the live screens.

The real app runs headless (Textual's test driver, rendering included) hosting its workspace
(as `make run` does: it is the owner, its engine serves other `mlops` commands), with a
champion deployed. A 10 ms interval timer records when it fires; the longest gap between
ticks, minus the interval, is the longest stall a user would feel. Target: under 100 ms.

One session, in a fresh interpreter so its imports start from nothing:
- once the training libraries are warm, each screen is shown for the first time (its mount,
  first load and first paint), one second each;
- then the console starts the inference server from the Serving screen and, at once, replays
  week 1 of the sample at 200 requests a second for 20 s, runs the drift monitor over the live
  window every second or so, and runs an 8-trial random forest sweep with 2 worker processes:
  once while the user watches Serving, once while they move between Serving, Monitoring and
  Scheduler after each drift check.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

from benchmarks.console_stall import GRID, INTERVAL, SAMPLE, machine_line, stall_cells

ROOT = Path(__file__).resolve().parents[1]
SCREEN_KEYS = "234567891"
SHOWN_SECONDS = 1.0
RATE, REPLAY_SECONDS = 200.0, 20.0
DRIFT_PAUSE = 1.0  # between drift checks (the scheduled job runs them minutes apart)
WATCHED = "789"  # Serving, Monitoring, Scheduler: the user moves between them under load
CONFIG = (
    "[serving]\nport = 0\nworkers = 1\n[alerts]\nstdout = false\n"
    "[gates]\nmin_f1 = 0.5\n[fairness]\nmin_ratio = 0.5\nmax_difference = 0.5\n"
)


async def measure(workspace: Path) -> dict[str, list[float]]:
    """The stalls of each first switch and of the loaded phase. Imported here, not at the top:
    the sweep's spawned workers re-import this module as their ``__main__`` and need none of it."""
    from console.app import MlopsApp
    from engine.cli import host_commands
    from engine.facade import Engine
    from engine.types.training import SweepRequest, TrainRequest, parse_grid

    app = MlopsApp(Engine.claim(workspace, command="benchmark"), serve=host_commands)
    ticks: list[float] = []
    found: dict[str, list[float]] = {}

    def stalls() -> list[float]:
        return [later - earlier - INTERVAL for earlier, later in pairwise(ticks)]

    try:
        async with app.run_test(size=(120, 36)) as pilot:
            while app.engine is None or any(worker.group == "warm up" for worker in app.workers):
                await pilot.pause(0.05)
            engine = app.engine
            app.set_interval(INTERVAL, lambda: ticks.append(time.perf_counter()))
            for key in SCREEN_KEYS:
                ticks.clear()
                await pilot.press(key)
                await pilot.pause(SHOWN_SECONDS)
                found[f"first switch to {type(app.screen).__name__}"] = stalls()

            await pilot.press("7")
            await asyncio.to_thread(engine.server.start)
            trials = SweepRequest(
                TrainRequest("churn", "churned", "random_forest"), parse_grid(GRID), workers=2
            )
            for switching in (False, True):
                ticks.clear()
                replay = asyncio.create_task(
                    asyncio.to_thread(engine.traffic.replay, "churn-api", "week1", RATE, REPLAY_SECONDS)
                )
                sweep = asyncio.create_task(asyncio.to_thread(engine.training.sweep, trials))
                checks = 0
                while not replay.done():
                    if switching:
                        await pilot.press(WATCHED[checks % len(WATCHED)])
                    await asyncio.to_thread(engine.monitors.drift)
                    checks += 1
                    await pilot.pause(DRIFT_PAUSE)
                report = await replay
                await sweep
                how = "switching between Serving, Monitoring, Scheduler" if switching else "watching Serving"
                found[
                    f"under load ({report.sent:,} requests at {report.rate:.0f}/s, {checks} drift checks,"
                    f" a sweep), {how}"
                ] = stalls()
                await pilot.press("7")
            await asyncio.to_thread(engine.server.stop)
            await app.workers.wait_for_complete()
    finally:
        app.close_engine()
    return found


def prepared(workspace: Path) -> None:
    """The sample's reference as churn, week 1 to replay, one forest registered, promoted and
    deployed as churn-api."""
    from engine.facade import Engine
    from engine.types.training import TrainRequest

    engine, _ = Engine.init(workspace, command="benchmark")
    (workspace / ".mlops" / "config.toml").write_text(CONFIG)
    engine.close()
    with Engine.open(workspace, command="benchmark") as engine:
        engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        engine.datasets.ingest(SAMPLE / "churn_week_1.csv", "week1")
        run = engine.training.train(TrainRequest("churn", "churned", "random_forest"))
        engine.registry.register(run.run_id, "churn")
        engine.registry.promote("churn", 1, force=True, reason="benchmark")
        engine.deployments.deploy("churn-api", "churn@champion")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        workspace, result = Path(folder) / "ws", Path(folder) / "stalls.json"
        prepared(workspace)
        load_before = os.getloadavg()[0]
        subprocess.run(
            [sys.executable, "-m", "benchmarks.console_live", str(workspace), str(result)],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        load_after = os.getloadavg()[0]
        found: dict[str, list[float]] = json.loads(result.read_text())
    print("### The live console: first switches, and replay at 200 req/s + drift checks + a sweep\n")
    print("| phase | ticks | longest stall | stalls > 100 ms | p99 stall | median stall |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for phase, stalls in found.items():
        print(f"| {phase} | {stall_cells(stalls)} |")
    print(machine_line(load_before, load_after))


if __name__ == "__main__":
    if len(sys.argv) == 3:  # the session, run by ``main``
        stalls = asyncio.run(measure(Path(sys.argv[1])))
        Path(sys.argv[2]).write_text(json.dumps(stalls))
    else:
        main()
