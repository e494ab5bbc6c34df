"""The owner's side: accept clients on the endpoint and serve them on this engine.

Each connection gets a thread: it authenticates the peer (the workspace token's HMAC
challenge, both ways, and the same uid) and reads one request, a JSON object, of one of three
kinds:

- a command (``argv``, from ``mlops`` in another terminal): run in a worker thread, its output
  streamed back as JSON frames as it is written, then its exit code;
- a facade call (``call``, from an attached console or, later, a serving worker): its arguments
  follow in one frame, the answer, the error or each progress report goes back the same way,
  pickled and read back only through codec.py's allow-list;
- an attachment (``attach``, from a console): held open until either side leaves, so the owner
  lists the console among its clients and the console learns at once when the owner stops.

A client's Ctrl-C (a ``cancel`` message) or its going away interrupts its work only: its DuckDB
queries are stopped and ``KeyboardInterrupt`` is raised in its thread, so it unwinds through
the same paths as a local Ctrl-C and nothing is half-written. Frames are
``multiprocessing.connection``'s length-prefixed ones; a malformed message ends that
connection, never the owner.
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
from multiprocessing.connection import Connection, Listener, answer_challenge, deliver_challenge, wait
from pathlib import Path
from typing import Any, TextIO, cast

from engine.errors import MlopsError
from engine.host import codec
from engine.host.endpoint import (
    PROTOCOL,
    Endpoint,
    remove_endpoint,
    socket_address,
    workspace_key,
    write_endpoint,
)
from engine.types.host import CommandRequest, RelayedCallback
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
# Runs one facade call (``"datasets.head"``, its arguments) and returns its answer (Engine.call).
Caller = Callable[[str, tuple[Any, ...], dict[str, Any]], Any]
# Stops the DuckDB work a thread is doing (Database.interrupt_thread).
ThreadInterrupter = Callable[[int], None]


class Host:
    def __init__(
        self,
        workspace: Workspace,
        runner: CommandRunner,
        caller: Caller,
        interrupt_thread: ThreadInterrupter,
        log: Callable[[str], None] = lambda line: None,
    ) -> None:
        self._workspace = workspace
        self._runner = runner
        self._caller = caller
        self._interrupt_thread = interrupt_thread
        self._log = log
        self._clients: dict[int, ClientInfo] = {}
        self._workers: dict[int, threading.Thread] = {}
        self._connections: set[threading.Thread] = set()  # accepted, from handshake to last frame
        self._lock = threading.Lock()
        self._closing = threading.Event()  # attached consoles are let go at once
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
        """Stop accepting and let attached consoles go, let the work in flight finish for up to
        ``grace_seconds``, then interrupt what is left, and unpublish the endpoint."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        with self._lock:  # from here a connection accepted is refused, not served (_admit)
            self._closing.set()
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
        """The threads running clients' work now (a signal to the owner spares them)."""
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
            self._admit(connection)

    def _admit(self, connection: Connection) -> None:
        """Serve an accepted connection, unless this owner has begun closing: ``close`` waits
        only for the connections registered before it began, so one served later would run its
        command on a closed database. A refused client sees the connection end during the
        handshake and runs its command itself once the workspace is free."""
        serving = threading.Thread(target=self._serve, args=(connection,), name="mlops-host-client")
        serving.daemon = True
        with self._lock:
            if self._closing.is_set():
                connection.close()
                return
            self._connections.add(serving)
        serving.start()

    def _serve(self, connection: Connection) -> None:
        link = _Link(connection)
        try:
            deliver_challenge(connection, self._key)
            answer_challenge(connection, self._key)
            _check_same_user(connection)
            raw = json.loads(connection.recv_bytes(MAX_REQUEST_BYTES))
            refusal = _refusal(raw)
            if refusal is not None:
                link.send_json({"stderr": f"error: {refusal}\n"})
                link.send_json({"exit": 2})
            elif "call" in raw:
                self._run_call(link, raw)
            elif "attach" in raw:
                self._hold_attachment(link, raw)
            else:
                request = _parse_command(raw)
                if isinstance(request, str):
                    link.send_json({"stderr": f"error: {request}\n"})
                    link.send_json({"exit": 2})
                else:
                    self._run_command(link, request)
        except Exception as error:  # a bad peer ends its own connection, never the owner
            self._log(f"refused a connection: {type(error).__name__}: {error}")
        finally:
            connection.close()
            with self._lock:
                self._connections.discard(threading.current_thread())

    def _run_command(self, link: _Link, request: CommandRequest) -> None:
        outcome: dict[str, int] = {}
        stdout = ClientStream(link.send_json, "stdout", request.stdout_tty)
        stderr = ClientStream(link.send_json, "stderr", request.stderr_tty)

        def work() -> None:
            try:
                outcome["exit"] = self._runner(request, cast(TextIO, stdout), cast(TextIO, stderr))
            except KeyboardInterrupt:
                outcome["exit"] = 130
            except BaseException as error:  # the runner reports errors itself; this is a last resort
                self._log(f"command {request.argv!r} failed: {type(error).__name__}: {error}")
                outcome["exit"] = 1

        command = _command_name(request.argv)
        self._log(f"pid {request.pid}: {command}")
        info = ClientInfo(request.pid, command, datetime.now(UTC).isoformat(timespec="seconds"))
        self._supervise(link, work, f"mlops-client-{request.pid}", info)
        if not link.gone.is_set():
            link.send_json({"exit": outcome.get("exit", 1)})

    def _run_call(self, link: _Link, raw: dict[str, Any]) -> None:
        """One facade call: its arguments, then the answer (or the error) and any progress
        reports in between, each a pickled frame."""
        name = raw["call"]
        if not isinstance(name, str):
            raise ValueError("malformed call: expected the call's name")
        arguments = codec.loads(link.connection.recv_bytes(MAX_REQUEST_BYTES))
        if not (
            isinstance(arguments, tuple)
            and len(arguments) == 2
            and isinstance(arguments[0], tuple)
            and isinstance(arguments[1], dict)
            and all(isinstance(key, str) for key in arguments[1])
        ):
            raise ValueError("malformed call: expected (args, kwargs)")
        args = tuple(_relayed(link, value) for value in arguments[0])
        kwargs = {key: _relayed(link, value) for key, value in arguments[1].items()}

        answer: dict[str, bytes] = {}

        def work() -> None:
            try:  # an answer that cannot cross (codec.dumps) is an error like any other
                answer["frame"] = codec.dumps({"result": self._caller(name, args, kwargs)})
            except KeyboardInterrupt:
                return  # cancelled: its caller has gone
            except MlopsError as error:
                answer["frame"] = codec.dumps({"error": _portable(error)})
            except BaseException as error:  # a bug in the owner; its caller is told what and where
                self._log(f"call {name} failed: {type(error).__name__}: {error}")
                answer["frame"] = codec.dumps({"failure": f"{type(error).__name__}: {error}"})

        self._supervise(link, work, f"mlops-call-{raw.get('pid')}", None)
        if "frame" in answer and not link.gone.is_set():
            link.send_bytes(answer["frame"])

    def _hold_attachment(self, link: _Link, raw: dict[str, Any]) -> None:
        """Keep an attached console's connection until it leaves or this owner closes; the
        console reads the end of it as the owner leaving."""
        info = ClientInfo(
            int(raw["pid"]), str(raw["attach"])[:80], datetime.now(UTC).isoformat(timespec="seconds")
        )
        key = id(threading.current_thread())
        link.send_json({"attached": os.getpid()})
        with self._lock:
            self._clients[key] = info
        self._log(f"pid {info.pid}: {info.command} attached")
        try:
            while not self._closing.is_set():
                if link.connection.poll(POLL_SECONDS):
                    link.connection.recv_bytes(1024)  # it sends nothing: EOF, or garbage, ends it
                    break
        except (EOFError, OSError):
            pass
        finally:
            with self._lock:
                self._clients.pop(key, None)
            self._log(f"pid {info.pid}: {info.command} detached")

    def _supervise(self, link: _Link, work: Callable[[], None], name: str, info: ClientInfo | None) -> None:
        """Run a client's ``work`` in a thread of its own until it ends; cancel it if the client
        asks or goes. The wait wakes at once on either: the thread writes to a pipe as it ends
        (an answer is not held back by a polling interval)."""
        finished, finishing = os.pipe()

        def run() -> None:
            try:
                work()
            finally:
                os.write(finishing, b".")

        worker = threading.Thread(target=run, name=name, daemon=True)
        with self._lock:
            if info is not None:
                self._clients[id(worker)] = info
            self._workers[id(worker)] = worker
        worker.start()
        try:
            while worker.is_alive():  # the pipe may miss a thread interrupted in its last line
                ready = wait([link.connection, finished], timeout=1.0)
                if finished in ready:
                    break
                if not ready:
                    continue
                try:
                    message = json.loads(link.connection.recv_bytes(1024))
                except (EOFError, OSError, ValueError):  # gone, or garbage: both end its work
                    link.gone.set()
                    message = {"cancel": True}
                if isinstance(message, dict) and message.get("cancel"):
                    self._cancel(worker)
                    break
            worker.join()
        finally:
            os.close(finished)
            os.close(finishing)
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


def _refusal(raw: Any) -> str | None:
    """Why a request cannot be served at all (not an object, another protocol), or None."""
    if not isinstance(raw, dict):
        return "malformed request: expected a JSON object"
    if raw.get("protocol") != PROTOCOL:
        return (
            f"this workspace's owner runs mlops-console {__version__} (protocol {PROTOCOL}); the client "
            f"is {raw.get('version', 'unknown')} (protocol {raw.get('protocol')}): use the same version"
        )
    return None


def _parse_command(raw: dict[str, Any]) -> CommandRequest | str:
    """The command, or the one line that says why it cannot be run."""
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


class _Link:
    """One client's connection: frames sent from any of its threads, and whether it has gone."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.gone = threading.Event()
        self._send_lock = threading.Lock()

    def send_json(self, message: dict[str, Any]) -> None:
        self.send_bytes(json.dumps(message).encode())

    def send_bytes(self, frame: bytes) -> None:
        if self.gone.is_set():
            raise BrokenPipeError("the client went away")
        try:
            with self._send_lock:
                self.connection.send_bytes(frame)
        except OSError:
            self.gone.set()
            raise BrokenPipeError("the client went away") from None


def _relayed(link: _Link, value: Any) -> Any:
    """An argument as the call gets it: a ``RelayedCallback`` becomes a progress callback whose
    reports go back to the caller."""
    if not isinstance(value, RelayedCallback):
        return value
    index = value.index

    def report(stage: str, fraction: float | None) -> None:
        link.send_bytes(codec.dumps({"progress": (index, stage, fraction)}))

    return report


def _portable(error: MlopsError) -> MlopsError:
    """``error`` as one of engine.errors' classes, the ones that cross the endpoint (codec.py): an
    error class of a service (``StepFailed``) crosses as its nearest such ancestor, same message."""
    if type(error).__module__ == MlopsError.__module__:
        return error
    nearest = next(cls for cls in type(error).__mro__ if cls.__module__ == MlopsError.__module__)
    return cast(MlopsError, nearest(str(error)))


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
