"""``python -m console [--workspace DIR]``: what ``mlops console`` execs into."""

from __future__ import annotations

import argparse
import sys

from engine.errors import MlopsError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlops console", description="Open the terminal console.")
    parser.add_argument("--workspace", "-w", default=None, metavar="DIR")
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)

    from engine.facade import Engine

    try:
        claim = Engine.claim(args.workspace, command="mlops console")
    except MlopsError as error:
        if args.debug:
            raise
        sys.stderr.write(f"error: {error}\n")
        return error.exit_code

    from console.app import MlopsApp

    app = MlopsApp(claim)
    try:
        app.run()
    finally:
        app.close_engine()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
