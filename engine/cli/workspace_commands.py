"""``mlops init``, ``mlops status`` and ``mlops console``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TypeVar

from engine.cli.output import Output
from engine.errors import InvalidInput, MlopsError

if TYPE_CHECKING:
    from rich.console import Console

T = TypeVar("T")


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    init = commands.add_parser(
        "init", parents=[common], help="create a workspace (.mlops/) in DIR (default: here)"
    )
    init.add_argument("directory", nargs="?", default=".", metavar="DIR")
    init.set_defaults(handler=run_init)

    status = commands.add_parser(
        "status", parents=[common], help="show the workspace, its owner and what it holds"
    )
    status.set_defaults(handler=run_status)

    console = commands.add_parser("console", parents=[common], help="open the terminal console")
    console.set_defaults(handler=run_console)


def run_init(args: argparse.Namespace, out: Output) -> int:
    from engine.facade import Engine

    engine, created = _with_spinner(
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
    from engine.facade import Engine

    with Engine.open(args.workspace, command="mlops status") as engine:
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
        ]
        for label, value in rows:
            table.add_row(label, Text(value))
        console.print(table)

    out.emit(document, render)
    return 0


def run_console(args: argparse.Namespace, out: Output) -> int:
    """Open the console on the workspace, in this process.

    The engine never imports the console (DESIGN rule 1): the ``mlops`` entry point
    (``console.launcher``) passes the function that opens it as ``args.open_console``.
    """
    if out.as_json:
        raise InvalidInput("--json: the console is interactive; use --json with other commands")
    if args.open_console is None:
        raise MlopsError("the console is not available here; run `mlops console` from mlops-console")
    return int(args.open_console(args.workspace))


def _with_spinner(out: Output, message: str, work: Callable[[], T]) -> T:
    if out.as_json or not sys.stderr.isatty():
        return work()
    from rich.console import Console

    with Console(stderr=True).status(message):
        return work()
