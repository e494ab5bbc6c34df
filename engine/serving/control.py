"""``engine.server``: the inference server started and stopped on demand by its owner.

``mlops serve`` starts it for its whole life; ``mlops up`` and the console start it when asked
(``mlops server start`` from another terminal reaches them as a forwarded command, the
console's Serving screen calls it directly). One server per owner: starting a running one says
where it runs. It needs its owner to host the workspace (the serving processes are its
clients), and it is stopped before the owner closes, so the last prediction-log batches still
reach an open workspace.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from engine.config import ServingConfig
from engine.errors import InvalidInput
from engine.serving.processes import ServingProcesses
from engine.types.serving import ServerState
from engine.types.workspace import Workspace


class ServerControl:
    def __init__(self, workspace: Workspace, configured: ServingConfig, hosting: Callable[[], bool]) -> None:
        self._workspace = workspace
        self._configured = configured
        self._hosting = hosting
        self._processes: ServingProcesses | None = None
        self._workers = 0
        self._started_at: str | None = None
        self._changing = threading.Lock()
        self.log: Callable[[str], None] = lambda line: None

    def start(
        self, host: str | None = None, port: int | None = None, workers: int | None = None
    ) -> ServerState:
        """Start serving every deployment on ``host:port`` (the ``[serving]`` settings by default)
        with ``workers`` processes; raises ``InvalidInput`` if it runs already or cannot bind."""
        with self._changing:
            if self._processes is not None:
                raise InvalidInput(
                    f"the inference server already runs at {self._processes.url}; stop it first"
                )
            if not self._hosting():
                raise InvalidInput(
                    "the engine must host its workspace before it serves models: "
                    "run `mlops serve` or `mlops up`"
                )
            count = self._configured.workers if workers is None else workers
            self._processes = ServingProcesses.start(
                self._workspace,
                self._configured.host if host is None else host,
                self._configured.port if port is None else port,
                count,
                self.log,
            )
            self._workers = count
            self._started_at = datetime.now(UTC).isoformat(timespec="seconds")
            self.log(f"serving {self._processes.url} with {count} worker(s) (pid {os.getpid()})")
            return self.state()

    def stop(self) -> ServerState:
        """Stop the server: the requests in flight are answered and the log handed over first."""
        with self._changing:
            if self._processes is None:
                raise InvalidInput("the inference server is not running")
            processes, self._processes = self._processes, None
            processes.stop()
            self.log(f"stopped serving {processes.url}")
            return self.state()

    def stop_if_running(self) -> None:
        if self._processes is not None:
            self.stop()

    def state(self) -> ServerState:
        processes = self._processes
        if processes is None:
            return ServerState(None, 0, [], None)
        return ServerState(processes.url, self._workers, processes.pids(), self._started_at)
