"""The ``mlops`` command: parse, call the engine facade, print (DESIGN rule 6).

Nouns then verbs (``mlops data ingest``); every command takes ``--json`` and then prints one
JSON document on stdout. Errors are one line on stderr and a non-zero exit; tracebacks only
with ``--debug``. Bare ``mlops`` in a terminal opens the console.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence

from engine.cli import (
    data_commands,
    eval_commands,
    feature_commands,
    model_commands,
    pipeline_commands,
    run_commands,
    suite_commands,
    train_commands,
    workspace_commands,
)
from engine.cli.output import Output
from engine.errors import MlopsError
from engine.version import __version__

COMMAND_MODULES = (
    workspace_commands,
    data_commands,
    suite_commands,
    feature_commands,
    train_commands,
    run_commands,
    pipeline_commands,
    eval_commands,
    model_commands,
)

# Opens the console on a workspace (a directory, or None to discover it) and returns the exit code.
OpenConsole = Callable[[str | None], int]


def build_parser() -> argparse.ArgumentParser:
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
    for module in COMMAND_MODULES:
        module.register(commands, common)
    return parser


def main(argv: Sequence[str] | None = None, open_console: OpenConsole | None = None) -> int:
    """Run one command; ``open_console`` is how ``mlops console`` opens the UI, when there is one."""
    args = build_parser().parse_args(argv)
    args.open_console = open_console
    args.workspace = getattr(args, "workspace", None)
    args.json = getattr(args, "json", False)
    args.debug = getattr(args, "debug", False)
    out = Output(as_json=args.json)
    handler = getattr(args, "handler", None)
    if handler is None:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            out.error(
                "no command given; run `mlops --help` (bare `mlops` opens the console only in a terminal)"
            )
            return 2
        handler = workspace_commands.run_console
    try:
        return handler(args, out)
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
