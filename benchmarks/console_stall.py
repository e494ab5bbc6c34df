"""How long the console's event loop stalls while a sweep runs in its worker.

The real app runs headless (Textual's test driver, rendering included) on a workspace with
the sample data; a 10 ms interval timer records when it fires while the Experiments screen
runs an 8-trial random forest sweep with 2 worker processes. The longest gap between ticks,
minus the interval, is the longest stall a user would feel. Target: under 100 ms.

Two console sessions, each in a fresh interpreter so its imports start from nothing:
- as shipped: the console imports the training libraries in a worker once the workspace is
  open (the warm-up is measured too, the Home screen idle), then the user switches to the
  Experiments screen (its first mount and first load, measured for 2 s) and runs two sweeps;
- without the warm-up: the same switch, then the first sweep imports the libraries itself;
- hosting a CLI client: as shipped, then `mlops train` (a random forest) run from another
  process, which the console runs for it in one of its threads (engine/host) while the
  Experiments screen shows the runs;
- attached: a second console, attached to `mlops up` owning the workspace, runs the sweep:
  it runs in the owner, and this console only relays its progress and shows the runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
INTERVAL = 0.01
TARGET = 0.1  # the longest stall allowed, in seconds
SETTLE_SECONDS = 2.0  # after the first switch to Experiments: mounted, first runs shown
GRID = ["n_estimators=100,200", "max_depth=5,10", "min_samples_leaf=1,5"]
SESSIONS = {
    "warm": (
        "as shipped",
        ["warm-up (Home screen idle)", "first switch to Experiments", "first sweep", "second sweep"],
    ),
    "cold": ("without the warm-up", ["first switch to Experiments", "first sweep (imports during it)"]),
    "client": (
        "hosting a CLI client",
        ["warm-up (Home screen idle)", "first switch to Experiments", "a client's `mlops train`"],
    ),
    "attached": ("attached to `mlops up`", ["first switch to Experiments", "a sweep run in the owner"]),
}
CLIENT_TRAIN = ["train", "--dataset", "churn", "--target", "churned", "--model", "random_forest", "--json"]


async def measure(workspace: Path, session: str) -> list[list[float]]:
    """The stalls of each phase of one session (see ``SESSIONS``).

    Imported here, not at the top: the sweep's spawned workers re-import this module as their
    ``__main__`` and need none of it."""
    from console.app import MlopsApp
    from console.screens.experiments import ExperimentsScreen
    from engine.cli import host_commands
    from engine.facade import Engine
    from engine.types.training import SweepRequest, TrainRequest, parse_grid

    warm_up = session in ("warm", "client")
    serve = host_commands if session == "client" else None
    mlops = Path(sys.executable).parent / "mlops"
    owner = None
    if session == "attached":
        owner = subprocess.Popen([str(mlops), "up", "-w", str(workspace)], stdout=subprocess.DEVNULL)
        while not (workspace / ".mlops" / "host.json").exists():
            await asyncio.sleep(0.05)
    app = MlopsApp(Engine.claim_or_attach(workspace, command="benchmark"), warm_up=warm_up, serve=serve)
    ticks: list[float] = []
    phases: list[list[float]] = []

    def stalls() -> list[float]:
        return [later - earlier - INTERVAL for earlier, later in pairwise(ticks)]

    try:
        async with app.run_test(size=(150, 40)) as pilot:
            while app.engine is None:
                await pilot.pause(0.05)
            app.set_interval(INTERVAL, lambda: ticks.append(time.perf_counter()))
            if warm_up:  # the Home screen stays shown, idle, while the console warms up
                while any(worker.group == "warm up" for worker in app.workers):
                    await pilot.pause(0.05)
                phases.append(stalls())
            ticks.clear()
            await pilot.press("4")
            await pilot.pause(SETTLE_SECONDS)
            phases.append(stalls())
            screen = app.screen
            assert isinstance(screen, ExperimentsScreen)
            if session == "client":
                ticks.clear()
                client = await asyncio.create_subprocess_exec(
                    str(mlops), *CLIENT_TRAIN, "-w", str(workspace), stdout=asyncio.subprocess.DEVNULL
                )
                assert await client.wait() == 0
                phases.append(stalls())
                await app.workers.wait_for_complete()
                return phases
            request = SweepRequest(
                TrainRequest("churn", "churned", "random_forest"), parse_grid(GRID), workers=2
            )
            for _ in range(2 if session == "warm" else 1):
                ticks.clear()
                # Wait on the worker itself: the "Sweep finished" notification expires after
                # 5 s, so counting notifications never sees a second sweep end.
                worker = screen._sweep(request)
                await worker.wait()  # raises WorkerFailed if the sweep failed
                phases.append(stalls())
            # A refresh still reading the database would make closing it fail.
            await app.workers.wait_for_complete()
    finally:
        app.close_engine()
        if owner is not None:
            owner.terminate()
            owner.wait()
    return phases


def session(name: str) -> list[list[float]]:
    """One session in a fresh interpreter (``python -m benchmarks.console_stall``) on a fresh
    workspace: runs left by another session would make the runs table, redrawn after every
    trial, bigger."""
    from engine.facade import Engine

    with tempfile.TemporaryDirectory() as folder:
        workspace, result = Path(folder) / "ws", Path(folder) / "stalls.json"
        engine, _ = Engine.init(workspace, command="benchmark")
        with engine:
            engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        subprocess.run(
            [sys.executable, "-m", "benchmarks.console_stall", str(workspace), name, str(result)],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        stalls: list[list[float]] = json.loads(result.read_text())
        return stalls


def main() -> None:
    load_before = os.getloadavg()[0]
    results = {name: session(name) for name in SESSIONS}
    load_after = os.getloadavg()[0]
    print(
        "### Console responsiveness during an 8-trial sweep (2 workers) and a client's train, 10 ms timer\n"
    )
    print("| session | phase | ticks | longest stall | stalls > 100 ms | p99 stall | median stall |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, (title, labels) in SESSIONS.items():
        for label, stalls in zip(labels, results[name], strict=True):
            print(f"| {title} | {label} | {stall_cells(stalls)} |")
    print(machine_line(load_before, load_after))


def stall_cells(stalls: list[float]) -> str:
    """A phase's ticks, longest stall, stalls over the target, p99 and median, as table cells."""
    cuts = statistics.quantiles(stalls, n=100)
    over = sum(stall > TARGET for stall in stalls)
    return (
        f"{len(stalls):,} | {max(stalls) * 1000:.0f} ms | {over} "
        f"| {cuts[98] * 1000:.0f} ms | {statistics.median(stalls) * 1000:.1f} ms"
    )


def machine_line(load_before: float, load_after: float) -> str:
    """Other processes competing for the cores stretch every stall: how busy the machine was."""
    return (
        f"\n{os.cpu_count()} cores, 1-minute load average {load_before:.1f} before, {load_after:.1f} after\n"
    )


if __name__ == "__main__":
    if len(sys.argv) == 4:  # one session, run by ``session``
        found = asyncio.run(measure(Path(sys.argv[1]), sys.argv[2]))
        Path(sys.argv[3]).write_text(json.dumps(found))
    else:
        main()
