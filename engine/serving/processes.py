"""The inference server as the owner runs it: a listening socket and the serving processes
(worker.py) that share it.

The owner binds the socket itself, so a port in use is one line at once, not N workers
failing; each worker inherits it and Linux hands every new connection to one of them. Stopping
sends each SIGTERM (uvicorn finishes the requests in flight), waits, and kills what is left.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from engine.errors import InvalidInput
from engine.types.workspace import Workspace

STOP_SECONDS = 30.0


METRICS_FOLDER = "metrics"
MULTIPROCESS_FOLDER = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's (engine/serving/metrics.py)


class ServingProcesses:
    def __init__(self, listening: socket.socket, processes: list[subprocess.Popen[bytes]], url: str) -> None:
        self._listening = listening
        self._processes = processes
        self.url = url

    @classmethod
    def start(cls, workspace: Workspace, host: str, port: int, workers: int) -> ServingProcesses:
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
        processes = [
            subprocess.Popen(
                command,
                pass_fds=[fd],
                env={**os.environ, "PYTHONPATH": path, MULTIPROCESS_FOLDER: str(metrics_folder)},
            )
            for _ in range(workers)
        ]
        bound_port = listening.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        return cls(listening, processes, f"http://{shown}:{bound_port}")

    def running(self) -> int:
        return sum(process.poll() is None for process in self._processes)

    def stop(self, seconds: float = STOP_SECONDS) -> None:
        """SIGTERM each, wait up to ``seconds`` for the requests in flight, then kill the rest."""
        for process in self._processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + seconds
        for process in self._processes:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._listening.close()


def _empty_metrics_folder(workspace: Workspace) -> Path:
    """Where the serving processes keep their metrics, emptied: counts start at every start."""
    folder = workspace.mlops_dir / METRICS_FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    for leftover in folder.glob("*.db"):
        leftover.unlink()
    return folder
