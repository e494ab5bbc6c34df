"""The ``mlops`` entry point: the engine's CLI, with the console plugged in.

The CLI lives in the engine, which must not import the console; this module, outside the
engine, hands the CLI the function that opens the console. ``mlops console`` then runs the
app in the same process (no second interpreter start: that keeps the first paint fast) and
other commands never import Textual.
"""

from __future__ import annotations

import sys


def open_console(workspace: str | None) -> int:
    from console.__main__ import open_console as run
    from engine.cli import host_commands

    return run(workspace, serve=host_commands)


def main() -> None:
    from engine.cli import main as cli_main

    sys.exit(cli_main(open_console=open_console))
