"""A face attached to the workspace's owner: every facade call runs there (server.py).

``Session.attach`` opens one long-lived connection that makes this process one of the owner's
clients (``mlops status`` lists it) and whose end tells it, at once, that the owner has left.
Each call opens its own connection, so calls from several threads (a console's refresh beside
its training run) run side by side in the owner as they would in one process. A call's progress
callback stays here: the owner sends each report back and it is called on this side.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from collections.abc import Callable, Iterable
from multiprocessing.connection import Client, Connection
from pathlib import Path, PurePath
from typing import Any

from engine.errors import InvalidInput, MlopsError, OwnerFailed, OwnerGone
from engine.host import codec
from engine.host.endpoint import PROTOCOL, Endpoint, read_endpoint, workspace_key
from engine.types.host import RelayedCallback
from engine.types.workspace import Workspace
from engine.version import __version__


class Session:
    """This process attached to the owner of ``workspace``: the calls it makes run there."""

    def __init__(self, workspace: Workspace, endpoint: Endpoint, connection: Connection) -> None:
        self._workspace = workspace
        self._endpoint = endpoint
        self._attachment = connection
        self._closed = threading.Event()

    @classmethod
    def attach(cls, workspace: Workspace, command: str, on_owner_left: Callable[[int], None]) -> Session:
        """Attach to the owner hosting ``workspace`` now; ``on_owner_left(pid)`` is called (from
        another thread) when it stops or dies, never after ``close``. Raises ``OwnerGone`` when
        no owner is hosting it any more."""
        endpoint = read_endpoint(workspace)
        if endpoint is None:
            raise OwnerGone(f"workspace {workspace.mlops_dir} has no owner to attach to any more")
        connection = _connect(workspace, endpoint)
        try:
            connection.send_bytes(json.dumps(_header(attach=command)).encode())
            reply = json.loads(connection.recv_bytes())
        except (EOFError, OSError) as error:
            connection.close()
            raise OwnerGone(f"the workspace's owner (pid {endpoint.pid}) stopped as this attached") from error
        if "attached" not in reply:  # refused: another protocol; it says why in one line
            connection.close()
            raise InvalidInput(
                str(reply.get("stderr", "the owner refused to attach")).strip().removeprefix("error: ")
            )
        session = cls(workspace, endpoint, connection)
        threading.Thread(
            target=session._watch, args=(on_owner_left,), name="mlops-attached", daemon=True
        ).start()
        return session

    @property
    def owner_pid(self) -> int:
        return self._endpoint.pid

    def service(self, name: str, methods: Iterable[str]) -> RemoteService:
        return RemoteService(self, name, frozenset(methods))

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run the facade call ``name`` in the owner and return its answer, or raise its error."""
        callbacks: list[Callable[..., None]] = []
        frame = codec.dumps(
            (
                tuple(_portable(value, callbacks) for value in args),
                {key: _portable(value, callbacks) for key, value in kwargs.items()},
            )
        )
        with _connect(self._workspace, self._endpoint) as connection:
            try:
                connection.send_bytes(json.dumps(_header(call=name)).encode())
                connection.send_bytes(frame)
                while True:
                    message = codec.loads(connection.recv_bytes())
                    if "progress" not in message:
                        break
                    index, stage, fraction = message["progress"]
                    callbacks[index](stage, fraction)
            except (EOFError, OSError) as error:
                raise OwnerGone(
                    f"the workspace's owner (pid {self.owner_pid}) stopped before {name} finished"
                ) from error
        if isinstance(message.get("error"), MlopsError):
            raise message["error"]
        if "result" not in message:
            raise OwnerFailed(
                f"{name} failed in the workspace's owner (pid {self.owner_pid}): {message.get('failure')}"
            )
        return message["result"]

    def close(self) -> None:
        """Detach (the owner drops this process from its clients); safe to call more than once."""
        self._closed.set()
        with (  # wakes the watching thread, and the owner sees the end at once
            contextlib.suppress(OSError),
            socket.socket(fileno=os.dup(self._attachment.fileno())) as attachment,
        ):
            attachment.shutdown(socket.SHUT_RDWR)
        self._attachment.close()

    def _watch(self, on_owner_left: Callable[[int], None]) -> None:
        """Wait on the attachment: it ends when the owner closes it (stopping) or dies."""
        try:
            while not self._closed.is_set():
                self._attachment.recv_bytes()  # the owner sends nothing more: only its end wakes this
        except (EOFError, OSError):
            pass
        if not self._closed.is_set():
            on_owner_left(self.owner_pid)


class RemoteService:
    """One service of the owner's facade (``datasets``, ``registry`` …): its allowed methods,
    called by name like the service itself."""

    def __init__(self, session: Session, name: str, methods: frozenset[str]) -> None:
        self._session = session
        self._name = name
        self._methods = methods

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method not in self._methods:
            raise AttributeError(f"{self._name}.{method} is not part of the engine's facade")
        name = f"{self._name}.{method}"

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._session.call(name, args, kwargs)

        call.__name__ = method
        return call


def _connect(workspace: Workspace, endpoint: Endpoint) -> Connection:
    try:
        return Client(endpoint.address, family="AF_UNIX", authkey=workspace_key(workspace))
    except (OSError, EOFError) as error:
        raise OwnerGone(f"the workspace's owner (pid {endpoint.pid}) has stopped") from error


def _header(**kind: str) -> dict[str, Any]:
    return {"protocol": PROTOCOL, "version": __version__, "pid": os.getpid(), **kind}


def _portable(value: Any, callbacks: list[Callable[..., None]]) -> Any:
    """An argument as it crosses: a callback stays here (``RelayedCallback`` stands in for it);
    a relative path is made absolute, since the owner's working directory is not this one's."""
    if callable(value) and not isinstance(value, type):
        callbacks.append(value)
        return RelayedCallback(len(callbacks) - 1)
    if isinstance(value, PurePath):
        return Path(value).absolute()
    return value
