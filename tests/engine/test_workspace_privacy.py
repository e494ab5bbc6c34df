"""A workspace is private to its user, and any directory a user can name holds one.

Another user on the machine must not read the data, MLflow's store (it holds input examples)
or the token, and must not be able to take the owner lock and lock the owner out."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.facade import Engine
from engine.types.training import TrainRequest
from engine.types.workspace import Workspace
from tests.conftest import SAMPLE, copy_workspace

PRIVATE_FILES = ("workspace.duckdb", "mlflow.db", "config.toml", "token", "owner.lock")
NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3"  # the suite's own venv may sit where other users cannot reach


def modes(workspace: Workspace) -> dict[str, int]:
    found = {".mlops": stat.S_IMODE(workspace.mlops_dir.stat().st_mode)}
    found |= {name: stat.S_IMODE((workspace.mlops_dir / name).stat().st_mode) for name in PRIVATE_FILES}
    return found


EXPECTED = {".mlops": 0o700} | dict.fromkeys(PRIVATE_FILES, 0o600)


@pytest.fixture
def shared_parent() -> Iterator[Path]:
    """A folder every user can enter (pytest's own tmp folders are 0700, which would hide the
    workspace from other users whatever its own modes)."""
    parent = Path(tempfile.mkdtemp(prefix="mlops-shared-", dir="/tmp"))
    parent.chmod(0o755)
    yield parent
    shutil.rmtree(parent)


def test_a_new_workspace_is_private_to_its_user(shared_parent: Path, workspace_template: Path) -> None:
    root = copy_workspace(workspace_template, shared_parent / "ws")
    with Engine.open(root, command="pytest") as engine:
        assert modes(engine.workspace) == EXPECTED


def test_a_workspace_made_before_the_rule_is_tightened_when_opened(
    shared_parent: Path, workspace_template: Path
) -> None:
    root = copy_workspace(workspace_template, shared_parent / "ws")
    (root / ".mlops").chmod(0o755)
    for name in PRIVATE_FILES:
        (root / ".mlops" / name).touch()
        (root / ".mlops" / name).chmod(0o644)
    (root / ".mlops" / "owner.lock").write_text("")
    with Engine.open(root, command="pytest") as engine:
        assert modes(engine.workspace) == EXPECTED


OTHER_USER = """
import fcntl, os, sys
for path in sys.argv[1:]:
    try:
        fd = os.open(path, os.O_RDONLY)
    except PermissionError:
        print("refused", flush=True)
        continue
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    print("opened", flush=True)
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or not os.access(SYSTEM_PYTHON, os.X_OK),
    reason="switching to another user needs root and a Python every user can run",
)
def test_another_user_can_neither_read_the_workspace_nor_take_its_lock(
    shared_parent: Path, workspace_template: Path
) -> None:
    root = copy_workspace(workspace_template, shared_parent / "ws")
    Engine.open(root, command="pytest").close()  # leaves owner.lock behind, as every owner does
    paths = [str(root / ".mlops" / name) for name in ("owner.lock", "mlflow.db", "workspace.duckdb")]
    result = subprocess.run(
        [SYSTEM_PYTHON, "-c", OTHER_USER, *paths],
        capture_output=True,
        text=True,
        user=NOBODY,
        group=NOBODY,
        extra_groups=[],
        timeout=60,
    )
    assert result.stdout.split() == ["refused"] * 3, result.stderr
    with Engine.open(root, command="pytest") as engine:
        assert engine.workspace.root == root


def test_a_hash_in_the_workspace_path_reaches_mlflow_intact(tmp_path: Path) -> None:
    """SQLite's URI form reads ``#`` as a fragment: the runs were once looked for in a stray
    file named after the path's first half."""
    engine, _ = Engine.init(tmp_path / "a#b c", command="pytest")
    with engine:
        engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        run = engine.training.train(TrainRequest("churn", "churned", "logistic_regression"))
        assert [found.run_id for found in engine.runs.search()] == [run.run_id]
        assert engine.status().counts.runs == 1
        assert engine.evaluation.evaluate(run.run_id, log=False).rows > 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a#b c"]


@pytest.mark.parametrize("name", ["what?", "100%41"])
def test_a_path_the_databases_cannot_take_is_refused_before_anything_is_written(
    tmp_path: Path, name: str
) -> None:
    with pytest.raises(InvalidInput, match=r"holds '[?%]', which the workspace's databases cannot be opened"):
        Engine.init(tmp_path / name, command="pytest")
    assert list(tmp_path.iterdir()) == []
