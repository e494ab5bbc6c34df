"""The owner's side: accept clients on the endpoint and run their commands on this engine.

Each connection gets a thread: it authenticates the peer (the workspace token's HMAC
challenge, both ways, and the same uid), reads one request, runs the command in a worker
thread and streams its output back as it is written, then the exit code. A client's Ctrl-C
(a ``cancel`` message) or its going away interrupts that command only: its DuckDB queries are
stopped and ``KeyboardInterrupt`` is raised in its thread, so it unwinds through the same
paths as a local Ctrl-C and nothing is half-written. Messages are JSON in
``multiprocessing.connection``'s length-prefixed frames: nothing received is ever unpickled,
and a malformed message ends that connection, never the owner.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from multiprocessing.connection import Connection, Listener, answer_challenge, deliver_challenge
from pathlib import Path
from typing import Any, TextIO, cast

from engine.host.endpoint import (
    PROTOCOL,
    Endpoint,
    remove_endpoint,
    socket_address,
    workspace_key,
    write_endpoint,
)
from engine.types.host import CommandRequest
from engine.types.workspace import ClientInfo, Workspace
from engine.version import __version__

MAX_REQUEST_BYTES = 1 << 20
POLL_SECONDS = 0.05
GRACE_SECONDS = 30.0
"""How long an owner that is closing waits for its clients' commands before interrupting them."""


class ClientStream:
    """A text stream whose writes go to the client as ``{"stdout": text}`` frames."""

    def __init__(self, send: Callable[[dict[str, Any]], None], name: str, tty: bool) -> None:
        self._send = send
        self._name = name
        self._tty = tty

    def write(self, text: str) -> int:
        if text:
            self._send({self._name: text})
        return len(text)

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return self._tty

    @property
    def encoding(self) -> str:
        return "utf-8"


# Runs one command for a client: the request, its stdout and stderr; returns the exit code.
CommandRunner = Callable[[CommandRequest, TextIO, TextIO], int]
# Stops the DuckDB work a thread is doing (Database.interrupt_thread).
ThreadInterrupter = Callable[[int], None]


class Host:
    def __init__(
        self,
        workspace: Workspace,
        runner: CommandRunner,
        interrupt_thread: ThreadInterrupter,
        log: Callable[[str], None] = lambda line: None,
    ) -> None:
        self._workspace = workspace
        self._runner = runner
        self._interrupt_thread = interrupt_thread
        self._log = log
        self._clients: dict[int, ClientInfo] = {}
        self._workers: dict[int, threading.Thread] = {}
        self._connections: set[threading.Thread] = set()  # accepted, from handshake to last frame
        self._lock = threading.Lock()
        self._listener: Listener | None = None
        self._endpoint: Endpoint | None = None
        self._key = b""

    def start(self) -> Endpoint:
        """Listen and publish the endpoint; a stale socket left by a killed owner is replaced
        (this process holds the owner lock, so nobody else can be listening on it)."""
        address = socket_address(self._workspace)
        socket_path = Path(address)
        socket_path.unlink(missing_ok=True)
        self._key = workspace_key(self._workspace)
        self._listener = Listener(address, family="AF_UNIX")
        socket_path.chmod(0o600)
        self._endpoint = Endpoint(address, os.getpid(), PROTOCOL, __version__)
        write_endpoint(self._workspace, self._endpoint)
        threading.Thread(target=self._accept, name="mlops-host-accept", daemon=True).start()
        return self._endpoint

    def clients(self) -> list[ClientInfo]:
        with self._lock:
            return sorted(self._clients.values(), key=lambda client: client.started_at)

    def close(self, grace_seconds: float = GRACE_SECONDS) -> None:
        """Stop accepting, let the commands in flight finish for up to ``grace_seconds``, then
        interrupt what is left, and unpublish the endpoint."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        with contextlib.suppress(OSError):  # already gone (removed by hand): nothing to close
            listener.close()  # unlinks the socket too
        if self._endpoint is not None:
            remove_endpoint(self._workspace, self._endpoint)
        deadline = time.monotonic() + grace_seconds
        while self._serving() and time.monotonic() < deadline:  # accepted ones are served too
            time.sleep(POLL_SECONDS)
        for worker in self._running():
            self._cancel(worker)
        for worker in self._running():
            worker.join(5.0)

    def worker_threads(self) -> set[int]:
        """The threads running clients' commands now (a signal to the owner spares them)."""
        with self._lock:
            return {worker.ident for worker in self._workers.values() if worker.ident is not None}

    def _serving(self) -> list[threading.Thread]:
        with self._lock:
            return [thread for thread in self._connections if thread.is_alive()]

    def _running(self) -> list[threading.Thread]:
        with self._lock:
            return [worker for worker in self._workers.values() if worker.is_alive()]

    def _accept(self) -> None:
        while self._listener is not None:
            try:
                connection = self._listener.accept()
            except OSError:
                return  # closed
            serving = threading.Thread(target=self._serve, args=(connection,), name="mlops-host-client")
            serving.daemon = True
            with self._lock:
                self._connections.add(serving)
            serving.start()

    def _serve(self, connection: Connection) -> None:
        send_lock = threading.Lock()
        gone = threading.Event()

        def send(message: dict[str, Any]) -> None:
            if gone.is_set():
                raise BrokenPipeError("the client went away")
            try:
                with send_lock:
                    connection.send_bytes(json.dumps(message).encode())
            except OSError:
                gone.set()
                raise BrokenPipeError("the client went away") from None

        try:
            deliver_challenge(connection, self._key)
            answer_challenge(connection, self._key)
            _check_same_user(connection)
            request = _parse_request(json.loads(connection.recv_bytes(MAX_REQUEST_BYTES)))
            if isinstance(request, str):
                send({"stderr": f"error: {request}\n"})
                send({"exit": 2})
                return
            self._run(connection, request, send, gone)
        except Exception as error:  # a bad peer ends its own connection, never the owner
            self._log(f"refused a connection: {type(error).__name__}: {error}")
        finally:
            connection.close()
            with self._lock:
                self._connections.discard(threading.current_thread())

    def _run(
        self,
        connection: Connection,
        request: CommandRequest,
        send: Callable[[dict[str, Any]], None],
        gone: threading.Event,
    ) -> None:
        outcome: dict[str, int] = {}
        stdout = ClientStream(send, "stdout", request.stdout_tty)
        stderr = ClientStream(send, "stderr", request.stderr_tty)

        def work() -> None:
            try:
                outcome["exit"] = self._runner(request, cast(TextIO, stdout), cast(TextIO, stderr))
            except KeyboardInterrupt:
                outcome["exit"] = 130
            except BaseException as error:  # the runner reports errors itself; this is a last resort
                self._log(f"command {request.argv!r} failed: {type(error).__name__}: {error}")
                outcome["exit"] = 1

        command = _command_name(request.argv)
        worker = threading.Thread(target=work, name=f"mlops-client-{request.pid}", daemon=True)
        started = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock:
            self._clients[id(worker)] = ClientInfo(request.pid, command, started)
            self._workers[id(worker)] = worker
        self._log(f"pid {request.pid}: {command}")
        worker.start()
        try:
            while worker.is_alive():
                if gone.is_set():
                    self._cancel(worker)
                    break
                try:
                    ready = connection.poll(POLL_SECONDS)
                    message = json.loads(connection.recv_bytes(1024)) if ready else None
                except (EOFError, OSError, ValueError):
                    gone.set()
                    continue
                if isinstance(message, dict) and message.get("cancel"):
                    self._cancel(worker)
            worker.join()
            if not gone.is_set():
                send({"exit": outcome.get("exit", 1)})
        finally:
            with self._lock:
                self._clients.pop(id(worker), None)
                self._workers.pop(id(worker), None)

    def _cancel(self, worker: threading.Thread) -> None:
        """Interrupt one client's command: its queries stop, then ``KeyboardInterrupt`` is raised
        in its thread (between two Python instructions, so in no half-done native call)."""
        if worker.ident is None or not worker.is_alive():
            return
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(worker.ident), ctypes.py_object(KeyboardInterrupt)
        )
        self._interrupt_thread(worker.ident)


def _command_name(argv: list[str]) -> str:
    """``mlops NOUN VERB`` as a person reads it: leading options (``-w DIR``) skipped, then the
    words before the first option, two at most."""
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        rest = rest[2:] if rest[0] in ("-w", "--workspace") else rest[1:]
    words = []
    for word in rest[:2]:
        if word.startswith("-"):
            break
        words.append(word)
    return " ".join(["mlops", *words])


def _parse_request(raw: Any) -> CommandRequest | str:
    """The request, or the one line that says why it cannot be run."""
    if not isinstance(raw, dict):
        return "malformed request: expected a JSON object"
    if raw.get("protocol") != PROTOCOL:
        return (
            f"this workspace's owner runs mlops-console {__version__} (protocol {PROTOCOL}); the client "
            f"is {raw.get('version', 'unknown')} (protocol {raw.get('protocol')}): use the same version"
        )
    argv, environ = raw.get("argv"), raw.get("environ", {})
    if not isinstance(argv, list) or not all(isinstance(item, str) for item in argv):
        return "malformed request: argv must be a list of strings"
    if not isinstance(environ, Mapping) or not all(isinstance(v, str) for v in environ.values()):
        return "malformed request: environ must map names to strings"
    try:
        return CommandRequest(
            argv,
            str(raw["cwd"]),
            int(raw["pid"]),
            bool(raw.get("stdin_tty")),
            bool(raw.get("stdout_tty")),
            bool(raw.get("stderr_tty")),
            dict(environ),
        )
    except (KeyError, TypeError, ValueError):
        return "malformed request: expected cwd and pid"


def _check_same_user(connection: Connection) -> None:
    """Refuse a peer of another uid where the OS says who it is (Linux's SO_PEERCRED); the
    socket's mode and the token's HMAC already keep other users out, this does not rely on them."""
    if not hasattr(socket, "SO_PEERCRED"):
        return
    peer = socket.socket(fileno=os.dup(connection.fileno()))
    try:
        credentials = peer.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    finally:
        peer.close()
    _, uid, _ = struct.unpack("3i", credentials)
    if uid != os.getuid():
        raise PermissionError(f"peer uid {uid} is not this workspace's user")
