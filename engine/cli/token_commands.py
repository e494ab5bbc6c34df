"""``mlops tokens ...`` (create, list, revoke): the bearer tokens the inference server accepts."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from engine.cli.common import opened, table
from engine.cli.output import Output

if TYPE_CHECKING:
    from rich.console import Console


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    tokens = commands.add_parser("tokens", parents=[common], help="serving's bearer tokens")
    verbs = tokens.add_subparsers(title="tokens commands", metavar="VERB", required=True)
    create = verbs.add_parser("create", parents=[common], help="make a named token (shown once)")
    create.add_argument("name", metavar="NAME")
    create.set_defaults(handler=run_tokens_create)
    verbs.add_parser("list", parents=[common], help="the tokens, active and revoked").set_defaults(
        handler=run_tokens_list
    )
    revoke = verbs.add_parser("revoke", parents=[common], help="stop accepting a token")
    revoke.add_argument("name", metavar="NAME")
    revoke.set_defaults(handler=run_tokens_revoke)


def run_tokens_create(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "tokens create") as engine:
        issued = engine.tokens.create(args.name)

    def render(console: Console) -> None:
        console.print(f"Token [bold]{issued.name}[/]; it is shown only now, keep it:")
        console.print(issued.token, markup=False, highlight=False, soft_wrap=True)

    out.emit(issued.to_dict(), render)
    return 0


def run_tokens_list(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "tokens list") as engine:
        tokens = engine.tokens.all()
    rows = [[t.name, "active" if t.active else "revoked", t.created_at, t.revoked_at or ""] for t in tokens]
    out.emit(
        {"tokens": [token.to_dict() for token in tokens]},
        lambda console: table(console, ["token", "status", "created", "revoked"], rows),
    )
    return 0


def run_tokens_revoke(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "tokens revoke") as engine:
        revoked = engine.tokens.revoke(args.name)
    out.emit(
        revoked.to_dict(),
        lambda console: console.print(
            f"Token [bold]{revoked.name}[/] revoked at {revoked.revoked_at}: serving no longer accepts it"
        ),
    )
    return 0
