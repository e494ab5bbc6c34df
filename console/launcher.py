"""The ``mlops`` entry point: the engine's CLI, with the console plugged in.

The CLI lives in the engine, which must not import the console; this module, outside the
engine, hands the CLI the function that opens the console. ``mlops console`` then runs the
app in the same process (no second interpreter start: that keeps the first paint fast) and
other commands never import Textual. ``mlops console --web`` serves it to a browser instead
(console/web.py, imported only then: it loads aiohttp and textual-serve).
"""

from __future__ import annotations

import sys


def open_console(workspace: str | None, *, web_port: int | None = None, demo: bool = False) -> int:
    if web_port is not None:
        from console.web import serve_console

        return serve_console(workspace, web_port)

    from console.__main__ import open_console as run
    from engine.cli import host_commands

    return run(workspace, serve=host_commands, demo=demo)


def main(argv: list[str] | None = None) -> None:
    """``mlops``, with ``argv`` instead of the command line's arguments when given."""
    from engine.cli import main as cli_main

    sys.exit(cli_main(argv, open_console=open_console))
