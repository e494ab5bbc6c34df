"""`mlops console` and bare `mlops` in a real pseudo-terminal: it paints, answers keys, quits."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.lock import read_owner
from tests.conftest import MLOPS, SAMPLE, run_mlops, wait_until

COLUMNS, ROWS = 120, 36


class Terminal:
    """A child process on a pty, with what it has drawn so far."""

    def __init__(self, process: subprocess.Popen[bytes], fd: int) -> None:
        self.process = process
        self.fd = fd
        self.screen = b""

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text.encode() not in self.screen:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.process.poll() is not None:
                raise AssertionError(f"{text!r} never appeared; last output: {self.screen[-300:]!r}")
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                try:
                    self.screen += os.read(self.fd, 65536)
                except OSError:
                    break

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def exit_code(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError("the console did not exit")
            if select.select([self.fd], [], [], 0.05)[0]:
                with contextlib.suppress(OSError):
                    os.read(self.fd, 65536)
        return self.process.returncode


@contextmanager
def terminal(*args: str, cwd: Path | None = None) -> Iterator[Terminal]:
    parent, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS), "LINES": str(ROWS)}
    env.pop("MLOPS_WORKSPACE", None)
    process = subprocess.Popen(
        [str(MLOPS), *args], stdin=child, stdout=child, stderr=child, cwd=cwd, env=env, start_new_session=True
    )
    os.close(child)
    try:
        yield Terminal(process, parent)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(parent)


def test_mlops_console_paints_and_q_quits_releasing_the_workspace(workspace: Path) -> None:
    with terminal("console", "--workspace", str(workspace)) as term:
        term.wait_for("Recent activity")
        term.wait_for("owner")
        assert read_owner(workspace / ".mlops").command == "mlops console"  # type: ignore[union-attr]
        term.type("q")
        assert term.exit_code() == 0
    assert read_owner(workspace / ".mlops") is None
    assert not (workspace / ".mlops" / "workspace.duckdb.wal").exists()


def test_bare_mlops_in_a_terminal_opens_the_console_of_the_workspace_here(workspace: Path) -> None:
    with terminal(cwd=workspace) as term:
        term.wait_for("Recent activity")
        term.type("q")
        assert term.exit_code() == 0


def test_a_second_console_attaches_and_takes_over_when_the_first_quits(workspace: Path) -> None:
    """Two consoles in two terminals: the second attaches to the first (its header names the
    owner), shows what a CLI client ingests, and owns the workspace once the first quits."""
    (workspace / ".mlops" / "config.toml").write_text("[console]\nrefresh_seconds = 0.2\n")
    with terminal("console", "--workspace", str(workspace)) as first:
        first.wait_for("Recent activity")
        wait_until(lambda: (workspace / ".mlops" / "host.json").exists(), what="the first console's endpoint")
        with terminal("console", "--workspace", str(workspace)) as second:
            second.wait_for(f"pid {first.process.pid} (mlops console)")
            second.type("2")
            ingested = run_mlops(
                "data", "ingest", str(SAMPLE / "churn_week_1.csv"), "--name", "from_cli", "-w", str(workspace)
            )
            assert ingested.returncode == 0, ingested.stderr
            second.wait_for("from_cli")
            clients = json.loads(run_mlops("status", "--json", "-w", str(workspace)).stdout)["clients"]
            assert [client["pid"] for client in clients][:1] == [second.process.pid]
            first.type("q")
            assert first.exit_code() == 0
            second.wait_for("this console now owns the workspace")
            owner = read_owner(workspace / ".mlops")
            assert owner is not None and owner.pid == second.process.pid
            second.type("q")
            assert second.exit_code() == 0
    assert read_owner(workspace / ".mlops") is None
    assert not (workspace / ".mlops" / "host.json").exists()


def test_sigterm_closes_the_console_cleanly(workspace: Path) -> None:
    with terminal("console", "--workspace", str(workspace)) as term:
        term.wait_for("owner")
        term.process.send_signal(signal.SIGTERM)
        assert term.exit_code() == 0
    assert read_owner(workspace / ".mlops") is None
    assert not (workspace / ".mlops" / "workspace.duckdb.wal").exists()


def test_the_cli_works_beside_the_console_and_the_console_shows_what_it_did(workspace: Path) -> None:
    """The console hosts the workspace: a command from another terminal runs through it, and
    the dataset it ingests appears on the console's Datasets screen without a key pressed."""
    with terminal("console", "--workspace", str(workspace)) as term:
        term.wait_for("Recent activity")
        term.type("2")
        wait_until(lambda: (workspace / ".mlops" / "host.json").exists(), what="the console's endpoint")
        ingested = run_mlops(
            "data", "ingest", str(SAMPLE / "churn_reference.csv"), "--name", "from_cli", "-w", str(workspace)
        )
        assert ingested.returncode == 0, ingested.stderr
        assert "Created from_cli@v1" in ingested.stdout
        status = run_mlops("status", "--json", "-w", str(workspace))
        assert status.returncode == 0 and json.loads(status.stdout)["owner"]["pid"] == term.process.pid
        term.wait_for("from_cli")
        term.type("q")
        assert term.exit_code() == 0
    assert not (workspace / ".mlops" / "host.json").exists()


def test_the_demo_in_a_console_beside_an_owner_joins_it(workspace: Path) -> None:
    """A second `make run` while the first console still runs the demo: the workspace is owned,
    so this one attaches to the owner (and runs no demo of its own) instead of failing."""
    with terminal("console", "--workspace", str(workspace)) as first:
        first.wait_for("Recent activity")
        wait_until(lambda: (workspace / ".mlops" / "host.json").exists(), what="the first console's endpoint")
        with terminal("demo", "--console", "--workspace", str(workspace)) as second:
            second.wait_for(f"pid {first.process.pid} (mlops console)")
            second.type("q")
            assert second.exit_code() == 0
        first.type("q")
        assert first.exit_code() == 0
    assert "set by mlops demo" not in (workspace / ".mlops" / "config.toml").read_text()
