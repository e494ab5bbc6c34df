"""Ctrl-C and SIGTERM while DuckDB runs a query: reported as what they are, and the workspace
closes as on any other exit (DuckDB otherwise turns them into "Query interrupted")."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.facade import Engine
from engine.lock import read_owner
from tests.conftest import MLOPS, REPO_ROOT, wait_until

ENDLESS = "SELECT count(*) AS n FROM range(1000000000000)"

# Sends the signal once the main thread is inside DuckDB: its innermost Python frame is
# ``function`` on a `cursor.execute` line (the call into DuckDB has started, or is about to).
SIGNALLED_INSIDE_A_QUERY = """
import linecache, os, sys, threading
from engine.facade import Engine
from engine.data import readers

workspace, work, signum = sys.argv[1], sys.argv[2], int(sys.argv[3])
function = {"ingest": "read", "ingest_query": "read", "query": "run_read_only"}[work]
main = threading.main_thread().ident

def signal_inside_the_query():
    while not threading.Event().wait(0.002):
        frame = sys._current_frames().get(main)
        if frame is not None and frame.f_code.co_name == function:
            if "cursor.execute" in linecache.getline(frame.f_code.co_filename, frame.f_lineno):
                os.kill(os.getpid(), signum)
                return

try:
    with Engine.open(workspace) as engine:
        threading.Thread(target=signal_inside_the_query, daemon=True).start()
        if work == "ingest":  # a file that takes for ever to read: the read_csv error path
            readers.source_sql = lambda cursor, path, *options: "(%s)" % ENDLESS
            engine.datasets.ingest(sys.argv[4], "endless")
        elif work == "ingest_query":
            engine.datasets.ingest_query(ENDLESS, "endless")
        else:
            engine.datasets.query(ENDLESS)
except BaseException as stopped:
    print(type(stopped).__name__, getattr(stopped, "code", ""), flush=True)
    os._exit(0)
""".replace("ENDLESS", repr(ENDLESS))


@pytest.mark.parametrize("work", ["ingest", "ingest_query", "query"])
@pytest.mark.parametrize(
    ("signum", "raised"),
    [(signal.SIGINT, "KeyboardInterrupt"), (signal.SIGTERM, "SystemExit 143")],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_signal_during_a_query_is_reported_as_the_signal(
    workspace: Path, work: str, signum: int, raised: str
) -> None:
    stopped = subprocess.run(
        [
            sys.executable,
            "-c",
            SIGNALLED_INSIDE_A_QUERY,
            str(workspace),
            work,
            str(int(signum)),
            str(REPO_ROOT / "sample_data" / "churn_reference.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert stopped.stdout.strip() == raised, stopped.stderr
    assert not (workspace / ".mlops" / "workspace.duckdb.wal").exists()  # closed: checkpointed
    with Engine.open(workspace) as engine:
        assert engine.datasets.summaries() == []  # nothing half-written


@pytest.mark.parametrize(
    ("signum", "exit_code", "message"),
    [(signal.SIGINT, 130, "error: interrupted"), (signal.SIGTERM, 143, "error: terminated")],
    ids=["SIGINT", "SIGTERM"],
)
def test_the_cli_exits_with_the_signals_status(
    workspace: Path, signum: int, exit_code: int, message: str
) -> None:
    process = subprocess.Popen(
        [str(MLOPS), "data", "sql", ENDLESS],
        cwd=workspace,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(lambda: read_owner(workspace / ".mlops") is not None, what="the CLI to own the workspace")
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert (process.returncode, stderr.strip()) == (exit_code, message), stderr
    assert read_owner(workspace / ".mlops") is None
