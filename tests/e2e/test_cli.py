"""The `mlops` command run as a user would: a subprocess, its exit code, stdout and stderr."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from engine import __version__
from tests.conftest import MLOPS, run_mlops


def test_init_json_then_status_json(tmp_path: Path) -> None:
    target = tmp_path / "project"
    init = run_mlops("init", str(target), "--json")
    assert init.returncode == 0, init.stderr
    document = json.loads(init.stdout)
    assert document == {
        "workspace": str(target / ".mlops"),
        "created": True,
        "config": str(target / ".mlops" / "config.toml"),
        "tracking_uri": f"sqlite:///{target}/.mlops/mlflow.db",
    }
    assert stat.S_IMODE((target / ".mlops" / "token").stat().st_mode) == 0o600

    below = target / "notebooks" / "drafts"
    below.mkdir(parents=True)
    status = run_mlops("status", "--json", cwd=below)
    assert status.returncode == 0, status.stderr
    document = json.loads(status.stdout)
    assert document["path"] == str(target / ".mlops")
    assert document["owner"]["command"] == "mlops status"
    assert document["schema_version"] >= 1
    assert document["counts"] == {"datasets": 0, "runs": 0, "models": 0, "deployments": 0, "open_alerts": 0}

    again = run_mlops("--json", "init", str(target))
    assert again.returncode == 0
    assert json.loads(again.stdout)["created"] is False


def test_status_finds_the_workspace_from_the_environment(workspace: Path, tmp_path: Path) -> None:
    env = {**os.environ, "MLOPS_WORKSPACE": str(workspace)}
    result = run_mlops("status", "--json", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["path"] == str(workspace / ".mlops")


def test_human_status_lists_owner_and_counts(workspace: Path) -> None:
    result = run_mlops("status", "-w", str(workspace))
    assert result.returncode == 0
    assert "owner" in result.stdout and "(mlops status)" in result.stdout
    assert "open alerts" in result.stdout


def test_outside_a_workspace_one_line_and_how_to_fix(tmp_path: Path) -> None:
    result = run_mlops(
        "status", cwd=tmp_path, env={k: v for k, v in os.environ.items() if k != "MLOPS_WORKSPACE"}
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: not inside a workspace") and "mlops init" in result.stderr


def test_errors_with_json_are_a_json_document_on_stderr(tmp_path: Path) -> None:
    result = run_mlops("status", "--json", "--workspace", str(tmp_path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert json.loads(result.stderr)["error"].startswith(f"--workspace {tmp_path} is not a workspace")


def test_a_broken_config_is_one_line_without_traceback_unless_debug(workspace: Path) -> None:
    (workspace / ".mlops" / "config.toml").write_text("[serving]\nport = 'eighty'\n")
    result = run_mlops("status", "-w", str(workspace))
    assert result.returncode == 2
    assert result.stderr.strip().endswith("serving.port = 'eighty' is a str; expected a int like 8080")
    assert "Traceback" not in result.stderr
    debug = run_mlops("status", "-w", str(workspace), "--debug")
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_version_and_help() -> None:
    assert run_mlops("--version").stdout.strip() == f"mlops-console {__version__}"
    help_text = run_mlops("--help").stdout
    for command in ("init", "status", "console"):
        assert command in help_text


def test_bare_mlops_outside_a_terminal_explains_itself() -> None:
    result = run_mlops()
    assert result.returncode == 2
    assert "no command given" in result.stderr


def test_console_has_no_json_form(workspace: Path) -> None:
    result = run_mlops("console", "--json", "-w", str(workspace))
    assert result.returncode == 2
    assert json.loads(result.stderr)["error"].startswith("--json: the console is interactive")


def test_unknown_command_is_a_usage_error() -> None:
    result = run_mlops("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


@pytest.mark.parametrize("as_json", [False, True])
def test_a_reader_that_closes_the_pipe_ends_the_command_quietly(workspace: Path, as_json: bool) -> None:
    """`mlops runs list | head -1`: the reader is gone before the listing is written. No message,
    no traceback, no "Exception ignored", and exit 141 (128 + SIGPIPE) as a tool ended by it."""
    store = MlflowClient(tracking_uri=f"sqlite:///{workspace / '.mlops' / 'mlflow.db'}")
    experiment = store.create_experiment("piped", artifact_location=(workspace / "piped").as_uri())
    for index in range(3):
        store.create_run(experiment, run_name=f"run-{index}")
    command = [str(MLOPS), "runs", "list", "-w", str(workspace), *(["--json"] if as_json else [])]
    listing = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert listing.stdout is not None and listing.stderr is not None
    listing.stdout.close()  # as `head -1` does once it has its line
    errors = listing.stderr.read().decode()
    assert listing.wait(timeout=120) == 141
    assert errors == ""
