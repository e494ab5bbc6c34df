"""``python -m console [--workspace DIR]``: the console alone, without the rest of the CLI."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.errors import MlopsError

if TYPE_CHECKING:
    from engine.facade import Engine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlops console", description="Open the terminal console.")
    parser.add_argument("--workspace", "-w", default=None, metavar="DIR")
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)
    try:
        return open_console(args.workspace)
    except MlopsError as error:
        if args.debug:
            raise
        sys.stderr.write(f"error: {error}\n")
        return error.exit_code


def open_console(
    workspace: str | os.PathLike[str] | None,
    serve: Callable[[Engine], None] | None = None,
    demo: bool = False,
) -> int:
    """Own the workspace (or attach to the process that owns it), run the app until it quits,
    then checkpoint and release (or detach). ``serve`` makes an owning console host other
    ``mlops`` commands once it is open (``engine.cli.host_commands``, passed in by the
    launcher: the console does not import the CLI). ``demo``: run the demo once it is open
    (console/demo_tour.py)."""
    from engine.facade import Engine

    opening = Engine.claim_or_attach(workspace, command="mlops console")

    from console.app import MlopsApp

    app = MlopsApp(opening, serve=serve, demo=demo)
    try:
        app.run()
    finally:
        app.close_engine()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
