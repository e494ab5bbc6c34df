"""The inference server as the owner runs it: a listening socket and the serving processes
(worker.py) that share it.

The owner binds the socket itself, so a port in use is one line at once, not N workers
failing; each worker inherits it and Linux hands every new connection to one of them. A worker
that dies (killed, crashed) is replaced, with a log line, no sooner than ``RESTART_SECONDS``
after the last start of its slot, so one that cannot start does not spin. Stopping sends each
SIGTERM (uvicorn finishes the requests in flight), waits, and kills what is left.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from engine.errors import InvalidInput, MlopsError
from engine.types.workspace import Workspace

STOP_SECONDS = 30.0
READY_SECONDS = 60.0
RESTART_SECONDS = 1.0
WATCH_SECONDS = 0.2


METRICS_FOLDER = "metrics"
MULTIPROCESS_FOLDER = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's (engine/serving/metrics.py)


class ServingProcesses:
    def __init__(
        self,
        listening: socket.socket,
        command: list[str],
        environment: dict[str, str],
        workers: int,
        url: str,
        log: Callable[[str], None],
    ) -> None:
        self._listening = listening
        self._command = command
        self._environment = environment
        self._log = log
        self.url = url
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._processes: list[subprocess.Popen[bytes]] = []
        try:
            for _ in range(workers):
                self._processes.append(self._spawn_ready())
        except BaseException:
            self.stop(0)
            raise
        self._started = [time.monotonic()] * workers
        threading.Thread(target=self._keep_running, name="mlops-serving-watch", daemon=True).start()

    @classmethod
    def start(
        cls, workspace: Workspace, host: str, port: int, workers: int, log: Callable[[str], None]
    ) -> ServingProcesses:
        if workers < 1:
            raise InvalidInput(f"--workers {workers}: expected 1 or more")
        listening = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listening.bind((host, port))
        except OSError as error:
            listening.close()
            raise InvalidInput(f"cannot serve on {host}:{port}: {error.strerror}") from None
        listening.listen(2048)
        metrics_folder = _empty_metrics_folder(workspace)
        source = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))
        fd = listening.fileno()
        command = [sys.executable, "-m", "engine.serving.worker", str(workspace.root), str(fd)]
        environment = {**os.environ, "PYTHONPATH": path, MULTIPROCESS_FOLDER: str(metrics_folder)}
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{listening.getsockname()[1]}"
        return cls(listening, command, environment, workers, url, log)

    def stop(self, seconds: float = STOP_SECONDS) -> None:
        """SIGTERM each, wait up to ``seconds`` for the requests in flight, then kill the rest."""
        self._stopping.set()
        with self._lock:
            processes = list(self._processes)
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + seconds
        for process in processes:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._listening.close()

    def pids(self) -> list[int]:
        with self._lock:
            return [process.pid for process in self._processes]

    def _spawn(self, ready_fd: int | None = None) -> subprocess.Popen[bytes]:
        fds = [self._listening.fileno()] if ready_fd is None else [self._listening.fileno(), ready_fd]
        command = self._command if ready_fd is None else [*self._command, str(ready_fd)]
        return subprocess.Popen(command, pass_fds=fds, env=self._environment)

    def _spawn_ready(self) -> subprocess.Popen[bytes]:
        """A worker, once it answers requests (it writes to a pipe then): until it does, a
        connection handed to it would wait, so the server is not announced before."""
        ready, ready_to_write = os.pipe()
        try:
            process = self._spawn(ready_to_write)
            os.close(ready_to_write)
            deadline = time.monotonic() + READY_SECONDS
            while process.poll() is None and time.monotonic() < deadline:
                if select.select([ready], [], [], WATCH_SECONDS)[0]:
                    if os.read(ready, 1):
                        return process
                    break  # the pipe closed without a byte: it is exiting
        finally:
            os.close(ready)
        code = process.wait(STOP_SECONDS) if process.poll() is None else process.returncode
        raise MlopsError(f"a serving process did not start ({_how(code)}); its error is above")

    def _keep_running(self) -> None:
        while not self._stopping.wait(WATCH_SECONDS):
            for slot in range(len(self._processes)):
                process = self._processes[slot]
                if process.poll() is None or time.monotonic() - self._started[slot] < RESTART_SECONDS:
                    continue
                with self._lock:
                    if self._stopping.is_set():
                        return
                    ended = _how(process.returncode)
                    self._log(f"serving process pid {process.pid} exited ({ended}); starting another")
                    self._processes[slot] = self._spawn()
                    self._started[slot] = time.monotonic()


def _how(code: int) -> str:
    return f"killed by signal {-code}" if code < 0 else f"exit {code}"


def _empty_metrics_folder(workspace: Workspace) -> Path:
    """Where the serving processes keep their metrics, emptied: counts start at every start."""
    folder = workspace.mlops_dir / METRICS_FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    for leftover in folder.glob("*.db"):
        leftover.unlink()
    return folder
