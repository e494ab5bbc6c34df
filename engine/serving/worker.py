"""A serving process: ``python -m engine.serving.worker WORKSPACE FD`` answers HTTP requests on
the listening socket it inherits (file descriptor FD), with the models the owner's plan names.

It is a client of the workspace's owner (engine/host/remote.py): it asks for the plan
(``deployments.plan``) at start and then every ``PLAN_SECONDS``, and loads what changed (a
deployment, or an alias that moved to another version) before it swaps the models the routes
see, so a request is answered by the old set or the new one, never by half of each. It never
opens the DuckDB file. Several of these share one socket (the owner made it; Linux hands each
connection to one of them). When the owner goes away, it stops like on SIGTERM: uvicorn lets
the requests in flight finish.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from collections.abc import Mapping

from engine.config import load_config
from engine.errors import MlopsError
from engine.host.remote import Session
from engine.serving.app import ServerSettings, build_app
from engine.serving.model import ServedModel
from engine.serving.tokens import TokenCheck
from engine.types.serving import ServedVariant, ServingPlan
from engine.workspace import find_workspace

PLAN_SECONDS = 0.5
"""How often the plan is asked for: a deployment change is served within a second."""
PRIMARY = "primary"


class ServedModels:
    """The models the routes see, replaced whole when the plan changes."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._loaded: dict[tuple[str, int, str], ServedModel] = {}  # by (model, version, sha256)
        self._current: Mapping[str, ServedModel] = {}
        self._signature: object = None

    def __call__(self) -> Mapping[str, ServedModel]:
        return self._current

    def refresh(self) -> None:
        """Ask for the plan; load what it names that is not loaded yet, then swap."""
        plan: ServingPlan = self._session.call("deployments.plan", (), {})
        chosen = {
            endpoint.endpoint: next(v for v in endpoint.variants if v.role == PRIMARY)
            for endpoint in plan.endpoints
        }
        signature = {name: (v.model, v.version, v.sha256) for name, v in chosen.items()}
        if signature == self._signature:
            return
        models = {name: self._model(variant) for name, variant in chosen.items()}
        self._loaded = {(m.name, m.version, m.sha256): m for m in models.values()}
        self._current, self._signature = models, signature  # one assignment: old set or new

    def _model(self, variant: ServedVariant) -> ServedModel:
        known = self._loaded.get((variant.model, variant.version, variant.sha256))
        if known is not None:
            return known
        return ServedModel.load(variant.model, variant.version, variant.onnx_path, variant.sha256)


def main(argv: list[str]) -> int:
    import uvicorn

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
    app = build_app(models, TokenCheck(workspace), settings)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    try:
        server.run(sockets=[listening])
    finally:
        stopping.set()
        session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
