"""The ``mlops`` command: parse, call the engine facade, print (DESIGN rule 6).

Nouns then verbs (``mlops data ingest``); every command takes ``--json`` and then prints one
JSON document on stdout. Errors are one line on stderr and a non-zero exit; tracebacks only
with ``--debug``. Bare ``mlops`` in a terminal opens the console.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol, TextIO

from engine.cli import workspace_commands
from engine.cli.common import OwnerHosting, client_cwd, hosted_engine
from engine.cli.output import Output
from engine.cli.streams import Streams, current_streams, process_streams, streams
from engine.errors import MlopsError
from engine.types.host import CommandRequest
from engine.version import __version__

if TYPE_CHECKING:
    from engine.facade import Engine

COMMAND_MODULES = {
    "workspace_commands": ("init", "status", "console", "up", "serve"),
    "data_commands": ("data",),
    "suite_commands": ("suite",),
    "feature_commands": ("features",),
    "train_commands": ("train", "sweep"),
    "run_commands": ("runs",),
    "pipeline_commands": ("pipeline",),
    "eval_commands": ("eval",),
    "model_commands": ("models",),
    "token_commands": ("tokens",),
    "deploy_commands": ("deploy",),
    "live_commands": ("server", "traffic", "labels", "predictions"),
    "monitor_commands": ("drift", "alerts", "accuracy", "monitor", "jobs"),
    "loop_commands": ("loop",),
    "demo_commands": ("demo",),
}
"""Each module of commands and the nouns it adds. Only the module of the noun typed is
imported (a forwarded command's client starts faster); ``mlops --help`` and a mistyped noun
load them all, so the list of commands is complete where it is shown."""


class OpenConsole(Protocol):
    """Opens the console on a workspace (a directory, or None to discover it) and returns the
    exit code: in this terminal, or with ``web_port`` served to a browser on 127.0.0.1 at that
    port (0: any free one) until stopped. ``demo``: the console runs the demo once the
    workspace is open (``mlops demo --console``)."""

    def __call__(self, workspace: str | None, *, web_port: int | None = None, demo: bool = False) -> int: ...


def build_parser(arguments: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``mlops`` parser, with every command, or only the one ``arguments`` name."""
    # Options shared by every command, accepted before or after the command name. SUPPRESS
    # keeps a subcommand's unset option from overwriting one given before the command.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--workspace",
        "-w",
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="the workspace to use (default: $MLOPS_WORKSPACE, then the nearest .mlops/ upward)",
    )
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print one JSON document on stdout",
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show tracebacks of errors",
    )
    parser = argparse.ArgumentParser(
        prog="mlops",
        parents=[common],
        description="A terminal control console for the machine-learning lifecycle.",
        epilog="Run `mlops COMMAND --help` for a command's options. "
        "Bare `mlops` in a terminal opens the console.",
    )
    parser.add_argument("--version", action="version", version=f"mlops-console {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in _modules_for(arguments):
        importlib.import_module(f"engine.cli.{name}").register(commands, common)
    return parser


def _modules_for(arguments: Sequence[str] | None) -> list[str]:
    """The command modules to load: the typed noun's alone, or all of them."""
    words = list(arguments or [])
    position = _noun_position(words)
    noun = words[position] if position is not None else None
    chosen = [name for name, nouns in COMMAND_MODULES.items() if noun in nouns]
    return chosen or list(COMMAND_MODULES)


def _noun_position(arguments: Sequence[str]) -> int | None:
    """Where the command's noun is: after the options given before it (``-w`` takes a value)."""
    position = 0
    while position < len(arguments) and arguments[position].startswith("-"):
        position += 2 if arguments[position] in ("-w", "--workspace") else 1
    return position if position < len(arguments) else None


DEPLOY_VERBS = ("create", "list", "show", "remove", "switch", "compare")


def _with_implicit_verb(arguments: list[str]) -> list[str]:
    """``mlops deploy ENDPOINT --model REF`` (the way KServe and docker users say it) is
    ``mlops deploy create ENDPOINT ...``; the verbs are reserved, not endpoint names."""
    position = _noun_position(arguments)
    if position is None or arguments[position] != "deploy":
        return arguments
    following = arguments[position + 1 : position + 2]
    if following and not following[0].startswith("-") and following[0] not in DEPLOY_VERBS:
        return [*arguments[: position + 1], "create", *arguments[position + 1 :]]
    return arguments


def main(argv: Sequence[str] | None = None, open_console: OpenConsole | None = None) -> int:
    """Run one command; ``open_console`` is how ``mlops console`` opens the UI, when there is one.

    The arguments are checked here, in the caller's process (usage errors and ``--help`` never
    reach anyone else). Then, when another process owns the workspace and hosts it, the command
    runs there and its output is relayed (engine/host): the same output, JSON and exit code.
    Otherwise it runs in this process, as the owner for its duration.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = _parse(arguments, open_console)
    if getattr(args, "handler", None) is None or getattr(args, "run_here", False):
        # Never through another owner: commands that make a workspace or own one (init, up,
        # serve, demo, whose workspace is not the one found from here), or are interactive (a
        # console beside an owner attaches to it itself: console/__main__.py).
        return execute(args)
    from engine.host.client import forward

    while True:  # forwarded, or run here; a host met while opening means forwarding after all
        forwarded = forward(args.workspace, arguments)
        if forwarded is not None:
            return forwarded
        try:
            return execute(args)
        except OwnerHosting:
            continue


def run_for_client(request: CommandRequest, stdout: TextIO, stderr: TextIO, engine: Engine) -> int:
    """Run a client's command in this process (its owner) on ``engine``: output goes to the
    client's streams and relative paths are the client's (``common.client_path``)."""
    streams = Streams(stdout, stderr, request.stdin_tty, request.environ, own=False)
    token_streams = current_streams.set(streams)
    token_cwd = client_cwd.set(request.cwd)
    token_engine = hosted_engine.set(engine)
    engine.wait_for_warm_up()
    try:
        try:
            args = _parse(request.argv, None)
        except SystemExit as stopped:  # the client checked them, but a version may differ
            return int(stopped.code or 0)
        return execute(args)
    finally:
        hosted_engine.reset(token_engine)
        client_cwd.reset(token_cwd)
        current_streams.reset(token_streams)


def host_commands(engine: Engine, log: Callable[[str], None] = lambda line: None) -> None:
    """Make ``engine``'s process the host of the workspace: other ``mlops`` processes' commands
    run here, on it (engine/host). Every owner does this: a command, ``mlops up``, the console."""
    engine.serve(lambda request, stdout, stderr: run_for_client(request, stdout, stderr, engine), log)


def _parse(arguments: Sequence[str], open_console: OpenConsole | None) -> argparse.Namespace:
    arguments = _with_implicit_verb(list(arguments))
    args = build_parser(arguments).parse_args(arguments)
    args.open_console = open_console
    args.workspace = getattr(args, "workspace", None)
    args.json = getattr(args, "json", False)
    args.debug = getattr(args, "debug", False)
    return args


@contextlib.contextmanager
def _one_document_on_stdout(as_json: bool) -> Iterator[None]:
    """With --json, this process's stdout holds the command's one document and nothing else:
    what else would print there meanwhile (the ``[alerts] stdout`` sink of an alert the command
    raised, a library's chatter) goes to stderr. A command run for a client writes to the
    client's streams already (``current_streams``) and the owner's own stdout is left alone."""
    if not as_json or current_streams.get() is not None:
        yield
        return
    token = current_streams.set(process_streams())
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        current_streams.reset(token)


def execute(args: argparse.Namespace) -> int:
    """Run parsed arguments' command here; errors become one line and an exit code."""
    out = Output(as_json=args.json)
    handler = getattr(args, "handler", None)
    if handler is None:
        target = streams()
        if not (target.stdin_tty and target.stdout.isatty()):
            out.error(
                "no command given; run `mlops --help` (bare `mlops` opens the console only in a terminal)"
            )
            return 2
        handler = workspace_commands.run_console
    try:
        with _one_document_on_stdout(args.json):
            return int(handler(args, out))
    except OwnerHosting:
        raise
    except MlopsError as error:
        if args.debug:
            raise
        out.error(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        out.error("interrupted")
        return 130
    except BrokenPipeError:
        # The reader of stdout went away (`mlops runs list | head -1`): nothing left to say to it,
        # so no message and no "Exception ignored" when Python flushes stdout at exit (it goes to
        # /dev/null now). The exit is 141, 128 + SIGPIPE, as for a tool the signal ended (`yes |
        # head -1` under `set -o pipefail`) and as this CLI reports SIGINT (130) and SIGTERM (143):
        # the output was not all delivered, and the workspace was closed on the way out.
        if streams().own:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except SystemExit as stopping:  # SIGTERM unwinds as SystemExit(143) (engine.shutdown)
        if stopping.code == 128 + signal.SIGTERM:
            out.error("terminated")
        raise
    except Exception as error:  # an engine bug: say so in one line unless debugging
        if args.debug:
            raise
        out.error(f"internal error: {type(error).__name__}: {error} (rerun with --debug for the traceback)")
        return 1
