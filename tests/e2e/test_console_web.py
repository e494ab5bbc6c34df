"""`mlops console --web`: the console served to a browser on 127.0.0.1, behind a token.

The server runs as a user starts it (the installed `mlops`, a subprocess); the browser is
aiohttp's client speaking textual-serve's protocol: the page, then a websocket that sends the
terminal's size and receives the real console's output (and ``["stdin", keys]`` to type).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import select
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from engine.lock import read_owner
from tests.conftest import ENV, MLOPS, run_mlops, wait_until

COLUMNS, ROWS = 120, 36
TOKEN = "fixed-token-for-the-test_0123456789"


@dataclass
class Served:
    process: subprocess.Popen[str]
    first_line: str
    port: int
    token: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def cookie(self) -> str:
        return f"mlops_console_{self.port}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(port: int) -> bool:
    try:
        get(port, "/")
    except OSError:
        return False
    return True


def get(
    port: int, path: str, headers: dict[str, str] | None = None
) -> tuple[int, http.client.HTTPMessage, str]:
    """A plain GET: its status, headers and text."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode()
    finally:
        connection.close()


def first_line(process: subprocess.Popen[str], timeout: float = 60) -> str:
    """The first line the server prints (its URL), waited for with a deadline."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, "the server printed nothing"
    return process.stdout.readline()


@contextmanager
def web_console(workspace: Path, port: int | None = None, token: str | None = None) -> Iterator[Served]:
    env = {**ENV, "MLOPS_CONSOLE_TOKEN": token} if token else ENV
    chosen = free_port() if port is None else port
    process = subprocess.Popen(
        [str(MLOPS), "console", "--web", "--port", str(chosen), "-w", str(workspace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = first_line(process)
        url = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]+)", line)
        assert url is not None, (line, process.stderr.read() if process.poll() is not None else "")
        served = Served(process, line, int(url[1]), url[2])
        wait_until(lambda: answers(served.port), what="the web console's port")
        yield served
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)


def stop(served: Served, how: signal.Signals) -> str:
    """Stop the server as a user or a service manager would; it must exit 0. Its output."""
    served.process.send_signal(how)
    out, err = served.process.communicate(timeout=60)
    assert served.process.returncode == 0, err
    return out


async def read_until(websocket: aiohttp.ClientWebSocketResponse, text: str, timeout: float = 60) -> bytes:
    """The console's output until ``text`` appears in it (escape sequences and all)."""
    seen = b""
    async with asyncio.timeout(timeout):
        while text.encode() not in seen:
            message = await websocket.receive()
            if message.type is aiohttp.WSMsgType.BINARY:
                seen += message.data
            elif message.type is not aiohttp.WSMsgType.TEXT:
                raise AssertionError(
                    f"{text!r} never came: the session ended ({message.type}); {seen[-300:]!r}"
                )
    return seen


async def until_closed(websocket: aiohttp.ClientWebSocketResponse, timeout: float = 60) -> None:
    """Read the rest of the console's output until the server closes the tab's websocket."""
    async with asyncio.timeout(timeout):
        while (await websocket.receive()).type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT):
            pass


async def open_tab(session: aiohttp.ClientSession, served: Served) -> aiohttp.ClientWebSocketResponse:
    """What the page's script does: the websocket, then the terminal's size."""
    websocket = await session.ws_connect(
        f"ws://127.0.0.1:{served.port}/ws?width={COLUMNS}&height={ROWS}", origin=served.base
    )
    await websocket.send_str(json.dumps(["resize", {"width": COLUMNS, "height": ROWS}]))
    return websocket


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_no_token_is_401_a_wrong_one_403_and_the_right_one_gets_the_page_and_its_cookie(
    workspace: Path,
) -> None:
    with web_console(workspace) as served:
        assert served.first_line.startswith(f"Serving the console of {workspace} on {served.base}/?token=")
        assert read_owner(workspace / ".mlops") is None  # the server itself never owns the workspace

        refused, _, text = get(served.port, "/")
        assert refused == 401 and "needs its token" in text
        refused, _, text = get(served.port, "/?token=wrong")
        assert refused == 403 and "wrong token" in text
        assert get(served.port, "/", {"Cookie": f"{served.cookie}=wrong"})[0] == 403
        assert get(served.port, "/static/js/textual.js")[0] == 401

        ok, headers, html = get(served.port, f"/?token={served.token}")
        assert ok == 200
        assert f'data-session-websocket-url="ws://127.0.0.1:{served.port}/ws"' in html
        cookie = headers["Set-Cookie"]
        assert cookie.startswith(f"{served.cookie}={served.token};")
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert headers["Referrer-Policy"] == "no-referrer"

        with_cookie = {"Cookie": f"{served.cookie}={served.token}"}
        assert get(served.port, "/static/js/textual.js", with_cookie)[0] == 200
        # A page of another site (DNS rebinding) sends its own Host: refused, token or not.
        assert get(served.port, f"/?token={served.token}", {"Host": f"evil.example:{served.port}"})[0] == 403
        moved, headers, _ = get(served.port, "/?token=x", {"Host": f"localhost:{served.port}"})
        assert moved == 307 and headers["Location"] == f"{served.base}/?token=x"

        out = stop(served, signal.SIGINT)  # Ctrl-C
    assert out.rstrip().endswith("stopped")


async def test_the_websocket_is_refused_without_the_token_or_from_another_site(workspace: Path) -> None:
    with web_console(workspace) as served:
        url = f"ws://127.0.0.1:{served.port}/ws?width={COLUMNS}&height={ROWS}"
        async with aiohttp.ClientSession() as session:
            for headers, expected in (
                ({}, 401),
                ({"Cookie": f"{served.cookie}=wrong"}, 403),
                ({"Cookie": f"{served.cookie}={served.token}", "Origin": "http://evil.example"}, 403),
            ):
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await session.ws_connect(url, headers=headers)
                assert refused.value.status == expected, headers
        assert read_owner(workspace / ".mlops") is None  # no console was started for them
        stop(served, signal.SIGTERM)


async def test_each_tab_runs_a_console_the_second_attaches_and_takes_over_and_sigterm_quits_them(
    workspace: Path,
) -> None:
    """The page's cookie opens the websocket; the tab paints the real console, which owns the
    workspace (not the server) and hosts the CLI; a second tab attaches to it and owns the
    workspace once the first tab closes; SIGTERM quits the consoles and releases the workspace.
    A token given in MLOPS_CONSOLE_TOKEN is the one printed, and stays out of the consoles'."""
    (workspace / ".mlops" / "config.toml").write_text("[console]\nrefresh_seconds = 0.2\n")
    with web_console(workspace, token=TOKEN) as served:
        assert served.token == TOKEN
        jar = aiohttp.CookieJar(unsafe=True)  # the cookie of an IP address, as a browser keeps it
        async with aiohttp.ClientSession(cookie_jar=jar) as browser:
            async with browser.get(f"{served.base}/?token={served.token}") as page:
                assert page.status == 200
            first = await open_tab(browser, served)
            await read_until(first, "Recent activity")
            owner = read_owner(workspace / ".mlops")
            assert owner is not None and owner.command == "mlops console"
            assert owner.pid != served.process.pid
            assert TOKEN.encode() not in Path(f"/proc/{owner.pid}/environ").read_bytes()

            second = await open_tab(browser, served)
            await read_until(second, f"pid {owner.pid} (mlops console)")  # its header names the owner
            state = json.loads(run_mlops("status", "--json", "-w", str(workspace), env=ENV).stdout)
            assert state["owner"]["pid"] == owner.pid  # the CLI ran through the first tab's console
            attached = [client["pid"] for client in state["clients"] if client["command"] == "mlops console"]
            assert len(attached) == 1 and attached[0] != owner.pid

            await first.close()
            await read_until(second, "this console now owns the workspace")
            wait_until(lambda: not alive(owner.pid), what="the first tab's console to end")
            now = read_owner(workspace / ".mlops")
            assert now is not None and now.pid == attached[0]

            # The tab reads on (as a browser does) while the server stops: the close is answered.
            out, _ = await asyncio.gather(
                asyncio.to_thread(stop, served, signal.SIGTERM), until_closed(second)
            )
    assert "stopping: SIGTERM" in out and out.rstrip().endswith("stopped")
    assert f"console pid {attached[0]} ended (exit code 0)" in out
    assert not alive(attached[0])
    assert read_owner(workspace / ".mlops") is None
    assert not (workspace / ".mlops" / "host.json").exists()
    assert not (workspace / ".mlops" / "workspace.duckdb.wal").exists()


async def test_a_killed_server_leaves_no_console_owning_the_workspace(workspace: Path) -> None:
    """SIGKILL gives the server no chance to quit its consoles: each notices and quits itself."""
    with web_console(workspace) as served:
        async with aiohttp.ClientSession() as browser:
            tab = await open_tab_with_cookie(browser, served)
            await read_until(tab, "Recent activity")
            owner = read_owner(workspace / ".mlops")
            assert owner is not None and owner.pid != served.process.pid
            served.process.kill()
            served.process.wait(30)
            wait_until(lambda: read_owner(workspace / ".mlops") is None, what="the console to let go")
            wait_until(lambda: not alive(owner.pid), what="the console to end")
    assert not (workspace / ".mlops" / "workspace.duckdb.wal").exists()


async def open_tab_with_cookie(
    browser: aiohttp.ClientSession, served: Served
) -> aiohttp.ClientWebSocketResponse:
    websocket = await browser.ws_connect(
        f"ws://127.0.0.1:{served.port}/ws?width={COLUMNS}&height={ROWS}",
        headers={"Cookie": f"{served.cookie}={served.token}"},
    )
    await websocket.send_str(json.dumps(["resize", {"width": COLUMNS, "height": ROWS}]))
    return websocket


def test_a_port_in_use_is_one_line_naming_it(workspace: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_mlops("console", "--web", "--port", str(port), "-w", str(workspace), env=ENV)
    assert result.returncode == 2
    assert result.stderr == (
        f"error: --port {port}: 127.0.0.1:{port} is in use by another program; "
        "expected a free port (--port 0 picks one)\n"
    )
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("arguments", "token", "expected"),
    [
        (["--port", "8001"], None, "error: --port 8001: only with --web"),
        (["--web", "--port", "70000"], None, "error: --port 70000: expected a port number from 0 to 65535"),
        (
            ["--web", "--port", "0"],
            "short",
            "error: MLOPS_CONSOLE_TOKEN: expected 16 or more of the characters",
        ),
        (["--web", "--port", "0"], "with spaces and more", "got 20 characters, others among them"),
        (["--web", "--port", "0", "--json"], None, '{"error": "--json: the console is interactive'),
    ],
)
def test_bad_options_are_one_line(
    workspace: Path, arguments: list[str], token: str | None, expected: str
) -> None:
    env = {**ENV, "MLOPS_CONSOLE_TOKEN": token} if token else ENV
    result = run_mlops("console", *arguments, "-w", str(workspace), env=env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and expected in result.stderr
    assert token is None or token not in result.stderr  # a secret is never echoed


def test_any_free_port_with_port_0_and_a_wrong_workspace_at_start(workspace: Path, tmp_path: Path) -> None:
    with web_console(workspace, port=0) as served:
        assert served.port != 0 and get(served.port, f"/?token={served.token}")[0] == 200
        stop(served, signal.SIGTERM)
    result = run_mlops("console", "--web", "--port", "0", "-w", str(tmp_path), env=ENV)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: --workspace {tmp_path} is not a workspace")
