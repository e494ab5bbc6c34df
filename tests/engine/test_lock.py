"""The owner lock across real processes: a live owner blocks, a dead one (kill -9) does not."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from engine.errors import WorkspaceLocked
from engine.facade import Engine
from engine.lock import read_owner
from tests.conftest import run_mlops

HOLDER = """
import sys
from engine import Engine
with Engine.open(sys.argv[1], command="mlops up") as engine:
    engine.events.record("test", "holder", "written before the signal")
    print("ready", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def holder(workspace: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process that owns the workspace until it is killed."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(workspace)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()


def test_a_second_process_gets_exit_3_and_one_line_naming_the_owner(
    workspace: Path, holder: subprocess.Popen[str]
) -> None:
    """An owner that does not host (a program using the engine as a library): a command, and a
    console, cannot run through it; each waits out its start-up (STARTING_SECONDS, together)."""
    with ThreadPoolExecutor(2) as pool:
        results = list(
            pool.map(lambda noun: run_mlops(noun, "--workspace", str(workspace)), ["status", "console"])
        )
    for result in results:
        assert result.returncode == 3
        assert (
            result.stderr == f"error: workspace {workspace}/.mlops is in use by pid {holder.pid} (mlops up)\n"
        )
        assert result.stdout == ""
    assert read_owner(workspace / ".mlops").pid == holder.pid  # type: ignore[union-attr]


def test_a_lock_left_by_a_killed_owner_is_taken_over(workspace: Path, holder: subprocess.Popen[str]) -> None:
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert read_owner(workspace / ".mlops") is None
    with Engine.open(workspace, command="pytest") as engine:
        assert engine._lock.previous_owner is not None
        assert engine._lock.previous_owner.pid == holder.pid
        assert [e.message for e in engine.events.recent(contains="holder")] == ["written before the signal"]


@pytest.mark.parametrize(
    ("signum", "exit_code"),
    [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGINT, -signal.SIGINT)],
    ids=["SIGTERM", "SIGINT"],
)
def test_a_signal_checkpoints_and_releases(
    workspace: Path, holder: subprocess.Popen[str], signum: int, exit_code: int
) -> None:
    holder.send_signal(signum)
    assert holder.wait(timeout=30) == exit_code
    assert not (workspace / ".mlops" / "workspace.duckdb.wal").exists()
    assert read_owner(workspace / ".mlops") is None
    with Engine.open(workspace) as engine:
        assert engine.events.recent(contains="holder")


def test_the_same_process_cannot_open_twice(engine: Engine) -> None:
    with pytest.raises(WorkspaceLocked, match=rf"in use by pid {os.getpid()} \(pytest\)"):
        Engine.open(engine.workspace.root)


def test_close_releases_for_the_next_owner(workspace: Path) -> None:
    first = Engine.open(workspace, command="first")
    first.close()
    first.close()  # closing twice is harmless
    with Engine.open(workspace, command="second") as second:
        assert second.status().owner.command == "second"
