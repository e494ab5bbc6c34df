"""A command forwarded to a warm owner vs the same command opening the workspace itself.

Side by side in one run on one workspace (the sample data, one logistic-regression run): each
command is the installed `mlops` in a fresh process, as a user types it, timed wall clock from
the process start to its exit. "cold" runs it with nothing owning the workspace (it opens
DuckDB and imports what it needs); "forwarded" runs it while `mlops up` owns the workspace
and has warmed up (the client then imports neither DuckDB, pandas nor MLflow).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from benchmarks.timing import median_seconds

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
MLOPS = str(Path(sys.executable).parent / "mlops")
REPEATS = 7
TRAIN = "train --dataset churn --target churned --model logistic_regression --json"
COMMANDS = {
    "runs list --json": ["runs", "list", "--json"],
    "data list --json": ["data", "list", "--json"],
    "status --json": ["status", "--json"],
    "train (logistic regression)": TRAIN.split(),
}


def run(workspace: Path, argv: list[str]) -> None:
    result = subprocess.run([MLOPS, *argv, "-w", str(workspace)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"mlops {' '.join(argv)} failed: {result.stderr}")


def timed(workspace: Path) -> dict[str, float]:
    return {name: median_seconds(partial(run, workspace, argv), REPEATS) for name, argv in COMMANDS.items()}


def owner_ready(workspace: Path, owner: subprocess.Popen[bytes]) -> None:
    """Wait for the endpoint, then for the warm-up (a forwarded train no longer imports)."""
    while not (workspace / ".mlops" / "host.json").exists():
        if owner.poll() is not None:
            raise RuntimeError("mlops up stopped")
        time.sleep(0.05)
    run(workspace, COMMANDS["train (logistic regression)"])  # the owner's first train: imports done


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder) / "ws"
        subprocess.run([MLOPS, "init", str(workspace)], check=True, capture_output=True)
        run(workspace, ["data", "ingest", str(SAMPLE / "churn_reference.csv"), "--name", "churn"])
        run(workspace, COMMANDS["train (logistic regression)"])
        cold = timed(workspace)
        owner = subprocess.Popen([MLOPS, "up", "-w", str(workspace)], stdout=subprocess.DEVNULL)
        try:
            owner_ready(workspace, owner)
            forwarded = timed(workspace)
            status = subprocess.run([MLOPS, "status", "--json", "-w", str(workspace)], capture_output=True)
            assert json.loads(status.stdout)["owner"]["command"] == "mlops up"
        finally:
            owner.send_signal(signal.SIGTERM)
            owner.wait()
    print(f"### Forwarding to a warm owner (`mlops up`) vs opening the workspace (median of {REPEATS})\n")
    print(f"Each is `mlops COMMAND` in a fresh process, wall clock; {os.cpu_count()} CPUs.\n")
    print("| command | cold, own process (s) | forwarded (s) | speed-up |")
    print("| --- | --- | --- | --- |")
    for name in COMMANDS:
        ratio = cold[name] / forwarded[name]
        print(f"| `{name}` | {cold[name]:.3f} | {forwarded[name]:.3f} | {ratio:.1f} times |")
    print()
