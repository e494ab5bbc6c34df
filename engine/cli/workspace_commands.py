"""``mlops init``, ``mlops status``, ``mlops console`` and ``mlops up``."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from engine.cli.common import opened, with_spinner
from engine.cli.output import Output
from engine.cli.streams import streams
from engine.errors import InvalidInput, MlopsError

if TYPE_CHECKING:
    from rich.console import Console

    from engine.facade import Engine

T = TypeVar("T")

WEB_PORT = 8000
"""Where ``mlops console --web`` listens without ``--port`` (``textual serve``'s default too)."""


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    init = commands.add_parser(
        "init", parents=[common], help="create a workspace (.mlops/) in DIR (default: here)"
    )
    init.add_argument("directory", nargs="?", default=".", metavar="DIR")
    init.set_defaults(handler=run_init, run_here=True)

    status = commands.add_parser(
        "status", parents=[common], help="show the workspace, its owner and what it holds"
    )
    status.set_defaults(handler=run_status)

    console = commands.add_parser("console", parents=[common], help="open the terminal console")
    console.add_argument(
        "--web",
        action="store_true",
        help="serve the console to a browser on 127.0.0.1 instead, guarded by a token in the URL printed "
        "($MLOPS_CONSOLE_TOKEN fixes it); each browser tab runs a console of its own",
    )
    console.add_argument(
        "--port", type=int, metavar="N", help=f"the port for --web (default {WEB_PORT}; 0: any free one)"
    )
    console.set_defaults(handler=run_console, run_here=True)

    up = commands.add_parser(
        "up", parents=[common], help="own the workspace headless and serve other commands until stopped"
    )
    up.set_defaults(handler=run_up, run_here=True)

    serve = commands.add_parser(
        "serve",
        parents=[common],
        help="serve the deployed models over HTTP (KServe V1, Open Inference V2), owning the workspace",
    )
    serve.add_argument("--host", help="the address to listen on (default: [serving] host, loopback)")
    serve.add_argument("--port", type=int, help="the port (default: [serving] port, 8080; 0: any free one)")
    serve.add_argument("--workers", type=int, help="serving processes sharing the port (default: [serving])")
    serve.set_defaults(handler=run_serve, run_here=True)


def run_init(args: argparse.Namespace, out: Output) -> int:
    from engine.facade import Engine

    engine, created = with_spinner(
        out,
        "Creating the workspace and its MLflow store…",
        lambda: Engine.init(args.directory, command="mlops init"),
    )
    with engine:
        document = {
            "workspace": str(engine.workspace.mlops_dir),
            "created": created,
            "config": str(engine.workspace.config_path),
            "tracking_uri": engine.tracking_uri,
        }

    def render(console: Console) -> None:
        from rich.markup import escape

        verb = "Created" if created else "Already a workspace, nothing overwritten:"
        console.print(f"{verb} [bold]{escape(str(document['workspace']))}[/]")
        console.print(f"  settings      {document['config']}", markup=False)
        console.print(f"  MLflow store  {document['tracking_uri']}", markup=False)
        console.print("Next: [bold]mlops status[/], or [bold]mlops console[/] to open the console.")

    out.emit(document, render)
    return 0


def run_status(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "status") as engine:
        status = engine.status()
    document: dict[str, Any] = asdict(status)

    def render(console: Console) -> None:
        from rich.table import Table
        from rich.text import Text

        table = Table(show_header=False, box=None, pad_edge=False)
        rows = [
            ("workspace", status.path),
            ("owner", f"{status.owner.describe()} since {status.owner.started_at}"),
            ("schema", f"v{status.schema_version}"),
            ("tracking", status.tracking_uri),
            *(
                (name.replace("_", " "), "remote" if value is None else str(value))
                for name, value in asdict(status.counts).items()
            ),
            *(
                ("client", f"pid {client.pid} ({client.command}) since {client.started_at}")
                for client in status.clients
            ),
        ]
        for label, value in rows:
            table.add_row(label, Text(value))
        console.print(table)

    out.emit(document, render)
    return 0


def run_console(args: argparse.Namespace, out: Output) -> int:
    """Open the console on the workspace, in this process; with ``--web``, serve it to a browser
    (console/web.py: this process then only serves, each browser session's console owns the
    workspace or attaches to its owner).

    The engine never imports the console (DESIGN rule 1): the ``mlops`` entry point
    (``console.launcher``) passes the function that opens it as ``args.open_console``.
    """
    if out.as_json:
        raise InvalidInput("--json: the console is interactive; use --json with other commands")
    if args.open_console is None:
        raise MlopsError("the console is not available here; run `mlops console` from mlops-console")
    port = getattr(args, "port", None)  # bare `mlops` has neither option
    if not getattr(args, "web", False):
        if port is not None:
            raise InvalidInput(f"--port {port}: only with --web (the terminal console listens on no port)")
        return int(args.open_console(args.workspace))
    if port is not None and not 0 <= port <= 65535:
        raise InvalidInput(f"--port {port}: expected a port number from 0 to 65535 (0: any free one)")
    return int(args.open_console(args.workspace, web_port=WEB_PORT if port is None else port))


def run_up(args: argparse.Namespace, out: Output) -> int:
    """Own the workspace with nothing on screen and run other processes' commands until SIGTERM
    or Ctrl-C; a line per event on stdout, for a terminal or a service manager's log."""
    return _own_until_stopped(args, "mlops up", lambda engine, log: None)


def run_serve(args: argparse.Namespace, out: Output) -> int:
    """``mlops up`` with the inference server: its processes answer HTTP on ``--host:--port``
    until SIGTERM or Ctrl-C, then finish the requests in flight and stop before the owner does."""

    def serving(engine: Engine, log: Callable[[str], None]) -> Callable[[], None]:
        engine.server.start(args.host, args.port, args.workers)
        log("deployments: `mlops deploy list`")
        return engine.server.stop_if_running

    return _own_until_stopped(args, "mlops serve", serving)


def _own_until_stopped(
    args: argparse.Namespace,
    command: str,
    start: Callable[[Engine, Callable[[str], None]], Callable[[], None] | None],
) -> int:
    """Own and host the workspace, start what ``start`` starts (returning how to stop it), and
    wait for SIGTERM or Ctrl-C; then stop it, and let the clients' commands in flight finish."""
    import threading

    from engine.cli import host_commands
    from engine.facade import Engine

    target = streams().stdout  # this process's own: not a client's, while one of its commands runs here

    def log(line: str) -> None:
        target.write(f"{datetime.now().astimezone().isoformat(timespec='seconds')} {line}\n")
        target.flush()

    never = threading.Event()  # the main thread waits here until a signal unwinds it
    with Engine.open(args.workspace, command=command) as engine:
        host_commands(engine, log)
        # Clients come for training and evaluation: have their libraries imported before the first.
        threading.Thread(target=Engine.warm_up, name="mlops-warm-up", daemon=True).start()
        stop = start(engine, log)
        engine.scheduler.start()  # the monitors on their schedule ([monitors]; `mlops jobs list`)
        owning = f"owning {engine.workspace.mlops_dir} as pid {os.getpid()}"
        log(f"{command}: {owning}; stop with Ctrl-C or SIGTERM")
        try:
            never.wait()
        except KeyboardInterrupt:
            log("stopping: Ctrl-C")
        except SystemExit:  # SIGTERM (engine.shutdown): the way a service manager stops it
            log("stopping: SIGTERM")
        finally:
            if stop is not None:
                log("stopping: the serving processes finish their requests")
                stop()
            log("stopping: waiting for the clients' commands in flight")
    log("stopped")
    return 0
