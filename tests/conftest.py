"""Shared fixtures: every test gets a fresh workspace of its own.

Creating a workspace runs MLflow's schema migrations (seconds), so one template is made per
test session and copied for each test; the copy is a complete, never-opened workspace.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.facade import Engine

REPO_ROOT = Path(__file__).resolve().parents[1]
MLOPS = Path(sys.executable).parent / "mlops"


@pytest.fixture(scope="session")
def workspace_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template") / "ws"
    engine, _ = Engine.init(root, command="pytest template")
    engine.close()
    return root


@pytest.fixture
def workspace(workspace_template: Path, tmp_path: Path) -> Path:
    """The root of a fresh workspace (the directory holding .mlops/)."""
    root = tmp_path / "ws"
    shutil.copytree(workspace_template, root)
    # MLflow stores absolute artifact locations; point the copy's at its own folder.
    store = sqlite3.connect(root / ".mlops" / "mlflow.db")
    store.execute(
        "UPDATE experiments SET artifact_location = replace(artifact_location, ?, ?)",
        [(workspace_template / ".mlops").as_uri(), (root / ".mlops").as_uri()],
    )
    store.commit()
    store.close()
    return root


@pytest.fixture
def engine(workspace: Path) -> Iterator[Engine]:
    with Engine.open(workspace, command="pytest") as opened:
        yield opened


def run_mlops(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the installed `mlops` command as a user would."""
    return subprocess.run(
        [str(MLOPS), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def wait_until(condition: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def mlops_json(workspace: Path, *args: str) -> dict[str, Any]:
    """Run a command with --json on ``workspace``; it must succeed and print one document."""
    result = run_mlops(*args, "--json", "--workspace", str(workspace))
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document
