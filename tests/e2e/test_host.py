"""One owner, many clients: `mlops` commands run through the process that owns the workspace.

Real processes throughout: the owner is `mlops up` (the headless host), the clients are the
installed `mlops` in subprocesses, as a user in another terminal would run them.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import ENV, MLOPS, SAMPLE, endpoint, run_mlops, start_owner, wait_until


@pytest.fixture
def owner(registry_workspace: Path) -> Iterator[subprocess.Popen[str]]:
    process = start_owner(registry_workspace)
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


def mlops(workspace: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return run_mlops(*args, "-w", str(workspace), env=ENV, timeout=timeout)


SAME_EITHER_WAY = [
    ("data", "list", "--json"),
    ("data", "show", "churn@v1"),
    ("data", "show", "nope"),
    ("suite", "list"),
    ("features", "list", "--json"),
    ("runs", "list"),
    ("runs", "show", "nope", "--json"),
    ("models", "show", "churn"),
    ("models", "promote", "nope", "1"),
    ("pipeline", "runs", "--json"),
    ("tokens", "list", "--json"),
    ("train", "--dataset", "churn", "--target", "nope"),
    ("data", "sql", "DROP TABLE datasets"),
]


def test_a_client_gets_the_output_and_exit_code_it_would_get_owning_the_workspace(
    registry_workspace: Path,
) -> None:
    alone = [mlops(registry_workspace, *command) for command in SAME_EITHER_WAY]
    owner = start_owner(registry_workspace)
    try:
        through = [mlops(registry_workspace, *command) for command in SAME_EITHER_WAY]
        logged = owner.pid
    finally:
        owner.send_signal(signal.SIGTERM)
        stdout, _ = owner.communicate(timeout=60)
    for command, before, after in zip(SAME_EITHER_WAY, alone, through, strict=True):
        assert (after.returncode, after.stdout, after.stderr) == (
            before.returncode,
            before.stdout,
            before.stderr,
        ), (command, after.stderr)
    assert owner.returncode == 0
    assert f"pid {logged}" in stdout and "mlops runs list" in stdout and stdout.rstrip().endswith("stopped")
    assert endpoint(registry_workspace) is None and not (registry_workspace / ".mlops" / "host.sock").exists()


def test_status_beside_an_owner_names_the_owner_and_its_clients(
    registry_workspace: Path, owner: subprocess.Popen[str]
) -> None:
    result = mlops(registry_workspace, "status", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["owner"]["pid"] == owner.pid and status["owner"]["command"] == "mlops up"
    assert [client["command"] for client in status["clients"]] == ["mlops status"]
    assert status["clients"][0]["pid"] != owner.pid


def test_four_clients_at_once_ingest_and_train(
    registry_workspace: Path, owner: subprocess.Popen[str], tmp_path: Path
) -> None:
    commands = [
        ("data", "ingest", str(SAMPLE / "churn_week_1.csv"), "--name", "production", "--json"),
        ("data", "ingest", str(SAMPLE / "churn_week_2.csv"), "--name", "production", "--json"),
        ("train", "--dataset", "churn", "--target", "churned", "--model", "logistic_regression", "--json"),
        ("train", "--dataset", "churn", "--target", "churned", "--model", "random_forest", "--json"),
    ]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda command: mlops(registry_workspace, *command), commands))
    assert [result.returncode for result in results] == [0, 0, 0, 0], [r.stderr for r in results]
    versions = sorted(json.loads(result.stdout)["version"] for result in results[:2])
    assert versions == [1, 2]
    listed = json.loads(mlops(registry_workspace, "runs", "list", "--json").stdout)["runs"]
    assert {json.loads(result.stdout)["run_id"] for result in results[2:]} <= {
        run["run_id"] for run in listed
    }
    assert owner.poll() is None


def test_a_relative_path_is_the_clients(
    registry_workspace: Path, owner: subprocess.Popen[str], tmp_path: Path
) -> None:
    (tmp_path / "batch.csv").write_text((SAMPLE / "churn_week_1.csv").read_text())
    result = run_mlops(
        "data", "ingest", "batch.csv", "--name", "batch", "-w", str(registry_workspace), cwd=tmp_path, env=ENV
    )
    assert result.returncode == 0, result.stderr
    exported = run_mlops(
        "data", "export", "batch", "out.parquet", "-w", str(registry_workspace), cwd=tmp_path, env=ENV
    )
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "out.parquet").is_file()


TRAIN_FOREST = ("train", "--dataset", "churn", "--target", "churned", "--model", "random_forest")
LONG_BUT_FINITE = "SELECT count(*) AS n FROM range(1500000000) t(a) WHERE a % 7 = 3"  # seconds
ENDLESS = "SELECT count(*) FROM range(1000000000000) t(a) WHERE a % 7 = 3"


def start_query(workspace: Path, sql: str, *options: str) -> subprocess.Popen[str]:
    """`mlops data sql SQL` as a client, returned once the owner is running it."""
    client = subprocess.Popen(
        [str(MLOPS), "data", "sql", sql, *options, "-w", str(workspace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    wait_until(lambda: "mlops data sql" in clients(workspace), what="the owner to start the query")
    return client


def test_ctrl_c_cancels_that_clients_command_only(
    registry_workspace: Path, owner: subprocess.Popen[str]
) -> None:
    client = start_query(registry_workspace, ENDLESS)
    client.send_signal(signal.SIGINT)
    _, stderr = client.communicate(timeout=60)
    assert (client.returncode, stderr) == (130, "error: interrupted\n")
    assert owner.poll() is None
    assert mlops(registry_workspace, "data", "list", "--json").returncode == 0


def clients(workspace: Path) -> list[str]:
    """The commands the owner is running for clients, as `mlops status` lists them."""
    status = json.loads(mlops(workspace, "status", "--json").stdout)
    return [client["command"] for client in status["clients"]]


def test_a_killed_owner_leaves_an_endpoint_the_next_command_clears(
    registry_workspace: Path, owner: subprocess.Popen[str]
) -> None:
    owner.kill()
    owner.wait()
    assert endpoint(registry_workspace) is not None  # kill -9 leaves it behind
    started = time.monotonic()
    result = mlops(registry_workspace, "data", "list", "--json")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 60  # it never hangs (a generous bound: no timing claim)
    assert endpoint(registry_workspace) is None


def test_garbage_on_the_endpoint_never_stops_the_owner(
    registry_workspace: Path, owner: subprocess.Popen[str]
) -> None:
    address = str(endpoint(registry_workspace)["address"])  # type: ignore[index]
    for junk in (b"", b"\x00\x00\x00\x10garbage", b"\xff" * 4 + b"x" * 100, b"GET / HTTP/1.1\r\n\r\n"):
        with socket.socket(socket.AF_UNIX) as peer:
            peer.connect(address)
            peer.sendall(junk)
    assert mlops(registry_workspace, "runs", "list", "--json").returncode == 0
    assert owner.poll() is None


def test_a_client_of_another_protocol_gets_one_line(
    registry_workspace: Path, owner: subprocess.Popen[str]
) -> None:
    path = registry_workspace / ".mlops" / "host.json"
    published = json.loads(path.read_text())
    path.write_text(json.dumps({**published, "protocol": 999, "version": "9.9.9"}))
    for command in (("runs", "list"), ("console",)):  # a console would attach: it refuses too
        result = mlops(registry_workspace, *command)
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.count("\n") == 1 and "mlops-console 9.9.9 (protocol 999)" in result.stderr
        assert "use the same version" in result.stderr


def test_a_deep_workspace_path_gets_its_endpoint_in_a_private_folder(
    registry_workspace: Path, tmp_path: Path
) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.parent.mkdir()
    registry_workspace.rename(deep)  # MLflow's recorded paths go stale: these commands do not read them
    owner = start_owner(deep)
    try:
        address = Path(str(endpoint(deep)["address"]))  # type: ignore[index]
        assert not address.is_relative_to(deep) and address.parent.name == f"mlops-{os.getuid()}"
        assert address.parent.stat().st_mode & 0o777 == 0o700
        result = mlops(deep, "data", "list", "--json")
        assert result.returncode == 0, result.stderr
        assert "churn" in result.stdout
    finally:
        owner.send_signal(signal.SIGTERM)
        owner.wait(60)
    assert not address.exists()


def run_in_terminal(*args: str) -> tuple[int, str]:
    """Run `mlops ARGS` with a pseudo-terminal as its stdout and stderr; its exit code and output."""
    parent, child = pty.openpty()
    process = subprocess.Popen(
        [str(MLOPS), *args],
        stdin=subprocess.DEVNULL,
        stdout=child,
        stderr=child,
        env={**ENV, "TERM": "xterm"},
    )
    os.close(child)
    output = b""
    while True:
        try:
            chunk = os.read(parent, 65536)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        output += chunk
    os.close(parent)
    return process.wait(120), output.decode(errors="replace")


def test_progress_renders_in_the_clients_terminal(
    registry_workspace: Path, owner: subprocess.Popen[str]
) -> None:
    code, output = run_in_terminal(*TRAIN_FOREST, "-w", str(registry_workspace))
    assert code == 0, output
    assert "fitting random_forest on 16,000 rows" in output and "%" in output  # the owner's progress bar
    assert "\x1b[" in output  # drawn with the terminal's escape codes, as in a local run
    assert "roc_auc" in output and "whole run" in output


def test_a_client_killed_mid_command_leaves_the_owner_serving(
    registry_workspace: Path, owner: subprocess.Popen[str]
) -> None:
    """Its command is cancelled as for Ctrl-C (the owner notices the connection close), so the
    query stops and nothing waits on it."""
    client = start_query(registry_workspace, ENDLESS)
    client.kill()
    client.wait()
    wait_until(lambda: clients(registry_workspace) == ["mlops status"], what="the owner to drop the client")
    result = mlops(registry_workspace, "data", "list", "--json")
    assert result.returncode == 0 and owner.poll() is None


def test_an_owner_told_to_stop_lets_its_clients_commands_finish(
    registry_workspace: Path, owner: subprocess.Popen[str]
) -> None:
    """SIGTERM stops the owner's own work at once, but a client's query in flight runs to its
    end (the grace period) before the owner closes the workspace and exits 0."""
    client = start_query(registry_workspace, LONG_BUT_FINITE, "--json")
    owner.send_signal(signal.SIGTERM)
    stdout, stderr = client.communicate(timeout=300)
    assert client.returncode == 0, stderr
    assert json.loads(stdout)["rows"] == [[214285714]]
    assert owner.wait(60) == 0
    assert endpoint(registry_workspace) is None


def test_commands_started_together_with_no_owner_all_run(registry_workspace: Path) -> None:
    """The first takes the workspace; the others find it opening, wait for its endpoint and run
    through it instead of failing with exit 3."""
    commands = [
        ("data", "list", "--json"),
        ("runs", "list", "--json"),
        ("data", "ingest", str(SAMPLE / "churn_week_1.csv"), "--name", "production", "--json"),
        ("train", "--dataset", "churn", "--target", "churned", "--model", "logistic_regression", "--json"),
    ]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda command: mlops(registry_workspace, *command), commands))
    assert [result.returncode for result in results] == [0, 0, 0, 0], [r.stderr for r in results]
    assert endpoint(registry_workspace) is None
