"""A serving process: ``python -m engine.serving.worker WORKSPACE FD [READY_FD]`` answers HTTP
requests on the listening socket it inherits (file descriptor FD), with the models the owner's
plan names, and writes a byte to READY_FD once it does.

It is a client of the workspace's owner (engine/host/remote.py): it asks for the plan
(``deployments.plan``) at start and then every ``PLAN_SECONDS``, and loads what changed (a
deployment, or an alias that moved to another version) before it swaps the models the routes
see, so a request is answered by the old set or the new one, never by half of each. It never
opens the DuckDB file. Several of these share one socket (the owner made it; Linux hands each
connection to one of them). Its prediction log goes to the owner in batches (recorder.py).
When the owner goes away, it stops like on SIGTERM: uvicorn lets the requests in flight finish,
then the rest of the log is handed over.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from collections.abc import Mapping

import uvicorn

from engine.config import load_config
from engine.errors import MlopsError
from engine.host.remote import Session
from engine.serving.app import ServerSettings, build_app
from engine.serving.model import ServedModel
from engine.serving.recorder import PredictionRecorder
from engine.serving.routing import Endpoint
from engine.serving.tokens import TokenCheck
from engine.types.serving import ServedEndpoint, ServingPlan
from engine.workspace import find_workspace

PLAN_SECONDS = 0.5
"""How often the plan is asked for: a deployment change is served within a second."""


class ServedModels:
    """The models the routes see, replaced whole when the plan changes."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._loaded: dict[tuple[str, int, str], ServedModel] = {}  # by (model, version, sha256)
        self._current: Mapping[str, Endpoint] = {}
        self._signature: object = None
        self._revision = -1  # the plan's revision this process serves

    def __call__(self) -> Mapping[str, Endpoint]:
        return self._current

    def refresh(self) -> None:
        """Ask for the plan (saying which revision this process serves); load what it names
        that is not loaded yet, then swap, and say so at once."""
        plan: ServingPlan = self._session.call("deployments.plan", (), {"serving": self._served_by()})
        signature = [
            (e.endpoint, e.strategy, sorted(e.settings.items()), _versions(e)) for e in plan.endpoints
        ]
        if signature != self._signature:
            loaded: dict[tuple[str, int, str], ServedModel] = {}
            served = {e.endpoint: self._servable(e, loaded) for e in plan.endpoints}
            self._loaded = loaded
            self._current, self._signature = served, signature  # one assignment: old set or new
        if plan.revision != self._revision:
            self._revision = plan.revision
            self._session.call("deployments.served", (self._served_by(),), {})

    def _served_by(self) -> tuple[int, int]:
        return os.getpid(), self._revision

    def _servable(
        self, endpoint: ServedEndpoint, loaded: dict[tuple[str, int, str], ServedModel]
    ) -> Endpoint:
        by_role = {}
        for variant in endpoint.variants:
            key = (variant.model, variant.version, variant.sha256)
            known = self._loaded.get(key) or loaded.get(key)
            model = known or ServedModel.load(
                variant.model, variant.version, variant.onnx_path, variant.sha256
            )
            loaded[key] = by_role[variant.role] = model
        return Endpoint(endpoint.endpoint, endpoint.strategy, by_role, endpoint.settings)


class AnnouncingServer(uvicorn.Server):
    """uvicorn's server, writing a byte to the owner's pipe once it answers requests: until
    then a connection handed to this process would wait (processes.py waits for the byte)."""

    def __init__(self, config: uvicorn.Config, ready_fd: int | None) -> None:
        super().__init__(config)
        self._ready_fd = ready_fd

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self._ready_fd is not None:
            os.write(self._ready_fd, b".")
            os.close(self._ready_fd)
            self._ready_fd = None


def _versions(endpoint: ServedEndpoint) -> list[tuple[str, int, str]]:
    return [(variant.role, variant.version, variant.sha256) for variant in endpoint.variants]


def main(argv: list[str]) -> int:
    workspace = find_workspace(argv[0])
    listening = socket.socket(fileno=int(argv[1]))
    stopping = threading.Event()

    def owner_left(pid: int) -> None:
        stopping.set()
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's own graceful stop

    try:
        session = Session.attach(workspace, "mlops serve (worker)", owner_left)
        models = ServedModels(session)
        models.refresh()
    except MlopsError as error:
        sys.stderr.write(f"error: {error}\n")
        return 1

    def keep_current() -> None:
        while not stopping.wait(PLAN_SECONDS):
            try:
                models.refresh()
            except MlopsError as error:  # a version that cannot load: keep serving the last set
                sys.stderr.write(f"serving worker {os.getpid()}: {error}\n")

    threading.Thread(target=keep_current, name="mlops-serving-plan", daemon=True).start()
    serving = load_config(workspace.config_path).serving
    settings = ServerSettings(serving.max_body_bytes, serving.metrics_need_token)
    recorder = PredictionRecorder(lambda batch: session.call("predictions.append", (batch,), {}))
    recorder.start()
    app = build_app(
        models, TokenCheck(workspace), settings, recorder, lambda: session.call("gauges.exposition", (), {})
    )
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = AnnouncingServer(config, int(argv[2]) if len(argv) > 2 else None)
    # uvicorn stops gracefully on these, then raises the signal again under the handlers it found
    # (to let the default one end the process); finding these instead, the process goes on to
    # hand over the rest of its log.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda number, frame: None)
    try:
        server.run(sockets=[listening])
    finally:
        stopping.set()
        recorder.close()  # the requests are answered: hand over the rest of the log
        session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
