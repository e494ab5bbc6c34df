"""``mlops console --web``: the console in a browser, served on 127.0.0.1 by textual-serve.

Who owns the workspace. This process never opens it: it finds it once (``Engine.locate``, so a
wrong ``--workspace`` is one line at start, not a blank tab later) and then only relays bytes.
Each browser session (a tab: one websocket) runs a console of its own, ``mlops console
--workspace DIR`` under Textual's web driver (``python -P -m console.web_session``: this
interpreter and the installed package, not a ``console/`` folder where it was started; it also
quits if this process is killed). That console claims or attaches exactly as one in a terminal
does (``Engine.claim_or_attach``): with no owner, the first tab owns and hosts the workspace; a
second tab, or any tab beside ``mlops up`` or a terminal console, attaches to the owner and
takes over when the owner leaves. A tab is a console with the same rights, and closing it quits
its console as ``q`` does. (One owner kept in this process, with only attached consoles in the
tabs, would keep DuckDB open with no console on screen and run every call in a process meant
only to relay.)

Who may connect. Only this machine (the socket is bound to 127.0.0.1), and only with the
token: a new one at every start (``secrets.token_urlsafe``) unless ``MLOPS_CONSOLE_TOKEN`` gives
one, printed in the URL. A request gets in with ``?token=`` (its response then sets an HttpOnly,
SameSite=Strict cookie, so the page's websocket, scripts and downloads carry the token without
it in their URLs) or with that cookie: neither is 401, a wrong one 403, the websocket
included; compared with ``hmac.compare_digest``. A Host other than this address (a DNS
rebinding page) and an Origin of another site are refused too; ``localhost`` is sent to
127.0.0.1, where the cookie and the page's websocket address are. Cookies are not kept apart
by port: the cookie's name carries the port, so two servers' do not overwrite each other.

Stopping. SIGTERM or Ctrl-C closes the port, asks each session's console to quit (newest
first: a tab attached to an older one quits before its owner, so none takes over only to quit)
and kills one still running after ``STOP_SECONDS``. The consoles run in sessions of their own:
Ctrl-C in this terminal reaches this process, which stops them in that order.

textual-serve's ``Server`` and ``AppService`` are subclassed where they offer no setting: the
websocket handler (to start our session class and keep the list of sessions) and how the
process starts (argv without a shell, its own session, the token kept out of its
environment). Their version is pinned for that reason (pyproject.toml).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import os
import re
import secrets
import shlex
import signal
import socket
import sys
from asyncio.subprocess import PIPE, Process
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from engine.errors import InvalidInput
from engine.facade import Engine

HOST = "127.0.0.1"
TOKEN_ENV_VAR = "MLOPS_CONSOLE_TOKEN"
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,}")
"""What a given token must look like: 96 bits or more, in characters a URL and a cookie carry
as they are (``token_urlsafe``'s)."""
STOP_SECONDS = 40.0
"""How long a session's console may take to quit before it is killed: an owner lets its
clients' commands finish first (up to 30 s, engine/host), then checkpoints."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def serve_console(workspace: str | None, port: int) -> int:
    """Serve the console of ``workspace`` (None: the one found from here) to browsers on
    127.0.0.1:``port`` (0: any free one) until SIGTERM or Ctrl-C; print its URL first."""
    root = Engine.locate(workspace).root
    token = access_token(os.environ)
    listening = listen(port)
    argv = [sys.executable, "-P", "-m", "console.web_session", str(os.getpid()), str(root)]
    WebConsole(argv, root, token, listening).run_until_stopped()
    return 0


def access_token(environ: Mapping[str, str]) -> str:
    """``MLOPS_CONSOLE_TOKEN`` when set (checked, never shown in an error), else a new one."""
    given = environ.get(TOKEN_ENV_VAR)
    if not given:
        return secrets.token_urlsafe(32)
    if not TOKEN_PATTERN.fullmatch(given):
        others = "" if re.fullmatch(r"[A-Za-z0-9_-]*", given) else ", others among them"
        raise InvalidInput(
            f"{TOKEN_ENV_VAR}: expected 16 or more of the characters A-Z a-z 0-9 - _ "
            f"(as Python's `secrets.token_urlsafe()` makes), got {len(given)} characters{others}"
        )
    return given


def listen(port: int) -> socket.socket:
    """A socket listening on 127.0.0.1:``port``, bound here so a port in use is one line now."""
    listening = socket.socket(socket.AF_INET)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((HOST, port))
    except OSError as error:
        listening.close()
        if error.errno == errno.EADDRINUSE:
            raise InvalidInput(
                f"--port {port}: {HOST}:{port} is in use by another program; "
                f"expected a free port (--port 0 picks one)"
            ) from None
        raise InvalidInput(f"--port {port}: cannot listen on {HOST}:{port}: {error.strerror}") from None
    listening.listen(128)
    return listening


def _log(line: str) -> None:
    """A line on stdout with the time, as ``mlops up`` writes its own."""
    sys.stdout.write(f"{datetime.now().astimezone().isoformat(timespec='seconds')} {line}\n")
    sys.stdout.flush()


class ConsoleSession(AppService):
    """One browser session's console: a child process speaking Textual's web-driver protocol
    on its stdin and stdout, relayed to the websocket by ``AppService``."""

    def __init__(self, argv: list[str], number: int, **relay: Any) -> None:
        super().__init__(shlex.join(argv), **relay)
        self.number = number
        self._argv = argv
        self._stopped: asyncio.Future[None] | None = None
        self._starting = asyncio.Lock()  # a console being started is stopped once it has

    @property
    def stopping(self) -> bool:
        return self._stopped is not None

    async def start(self, width: int, height: int) -> None:
        async with self._starting:
            if not self.stopping:  # the server began stopping while this tab connected
                await super().start(width, height)

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
        environment = self._build_environment(width=width, height=height)
        environment.pop(TOKEN_ENV_VAR, None)  # the console has no use for it
        self._process = process = await asyncio.create_subprocess_exec(
            *self._argv, stdin=PIPE, stdout=PIPE, stderr=PIPE, env=environment, start_new_session=True
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        _log(f"session {self.number}: console pid {process.pid} ({width}x{height})")
        return process

    async def run(self) -> None:
        await super().run()
        # The console has quit (or never started: textual-serve writes its error out): so has the tab.
        await self.remote_close()

    async def stop(self) -> None:
        """Ask the console to quit, kill it after ``STOP_SECONDS``, and wait for it: once,
        however many callers (the websocket closing, the server stopping) ask."""
        if self._stopped is None:
            self._stopped = asyncio.ensure_future(self._stop())
        await asyncio.shield(self._stopped)

    async def _stop(self) -> None:
        async with self._starting:
            await self._quit()

    async def _quit(self) -> None:
        process = self._process
        try:
            await asyncio.wait_for(super().stop(), STOP_SECONDS)
        except TimeoutError:
            if process is not None:
                _log(f"session {self.number}: the console did not quit in {STOP_SECONDS:.0f} s; killing it")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        if process is not None:
            code = await process.wait()
            _log(f"session {self.number}: console pid {process.pid} ended (exit code {code})")


class WebConsole(Server):
    """textual-serve's server, on a socket bound beforehand, behind the token."""

    def __init__(self, argv: list[str], root: Path, token: str, listening: socket.socket) -> None:
        port = listening.getsockname()[1]
        public_url = f"http://{HOST}:{port}"
        super().__init__(shlex.join(argv), HOST, port, title=f"mlops console: {root}", public_url=public_url)
        self.root = root
        self._argv = argv
        self._token = token.encode()
        self._listening = listening
        self._cookie = f"mlops_console_{port}"
        self._sessions: list[ConsoleSession] = []
        self._started = 0

    @property
    def url(self) -> str:
        """The address to open, token included."""
        return f"{self.public_url}/?token={self._token.decode()}"

    def run_until_stopped(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        stopping = asyncio.Event()
        reasons: list[str] = []

        def stop(reason: str) -> None:
            reasons.append(reason)
            stopping.set()

        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, stop, "Ctrl-C")
        loop.add_signal_handler(signal.SIGTERM, stop, "SIGTERM")
        runner = web.AppRunner(
            await self._make_app(), access_log=None, shutdown_timeout=STOP_SECONDS + 5
        )  # no access log: it would write each URL, ``?token=`` included
        await runner.setup()
        try:
            await web.SockSite(runner, self._listening).start()
            sys.stdout.write(
                f"Serving the console of {self.root} on {self.url} "
                f"(this machine only; stop with Ctrl-C or SIGTERM)\n"
            )
            sys.stdout.flush()
            await stopping.wait()
            _log(f"stopping: {reasons[0]}; the consoles quit")
        finally:
            await runner.cleanup()
        _log("stopped")

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._guard)
        return app

    async def on_startup(self, app: web.Application) -> None:
        """Nothing: textual-serve prints its logo here; ``_run`` prints the URL once listening."""

    async def on_shutdown(self, app: web.Application) -> None:
        """The port is closed: stop the sessions, newest first (see the module's docstring)."""
        for session in reversed(list(self._sessions)):
            await session.stop()

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Every request passes here first: this address, this site, the token."""
        if request.host == f"localhost:{self.port}":
            raise web.HTTPTemporaryRedirect(f"{self.public_url}{request.rel_url}")
        if request.host != f"{HOST}:{self.port}":
            raise web.HTTPForbidden(
                text=f"Host {request.host!r} refused: open {self.public_url}/?token=...\n"
            )
        origin = request.headers.get("Origin")
        if origin is not None and origin != self.public_url:
            raise web.HTTPForbidden(text=f"a request from {origin} refused: only {self.public_url} may\n")
        given = request.query.get("token")
        presented = given if given is not None else request.cookies.get(self._cookie)
        if presented is None:
            raise web.HTTPUnauthorized(
                text="this console needs its token: open the URL `mlops console --web` printed "
                f"({self.public_url}/?token=...)\n"
            )
        if not hmac.compare_digest(presented.encode(), self._token):
            raise web.HTTPForbidden(
                text="wrong token: open the URL `mlops console --web` printed "
                f"({self.public_url}/?token=...); it changes at every start unless {TOKEN_ENV_VAR} sets it\n"
            )
        response = await handler(request)
        if not response.prepared:  # a websocket's headers are gone already
            if given is not None:
                response.set_cookie(self._cookie, given, httponly=True, samesite="Strict")
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["Cache-Control"] = "no-store"
            response.headers["X-Frame-Options"] = "DENY"
        return response

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One browser session: a console of its own while the websocket is open."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        await websocket.prepare(request)
        self._started += 1
        session = ConsoleSession(
            self._argv,
            self._started,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
        )
        self._sessions.append(session)
        try:
            await session.start(width, height)
            if not session.stopping:
                await self._process_messages(websocket, session)
        except Exception as error:  # a message outside the protocol: this session ends, not the others
            _log(f"session {session.number}: ended by {type(error).__name__}: {error}")
        finally:
            await session.stop()
            self._sessions.remove(session)
            await websocket.close()
        return websocket
