"""``mlops deploy ...``: ENDPOINT --model REF (create or replace), list, show, remove."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from engine.cli.common import opened, table
from engine.cli.output import Output

if TYPE_CHECKING:
    from rich.console import Console

    from engine.types.serving import Deployment


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    deploy = commands.add_parser(
        "deploy",
        parents=[common],
        help="serve models on endpoints: `mlops deploy ENDPOINT --model NAME@ALIAS`",
        description="`mlops deploy ENDPOINT --model NAME@ALIAS` serves a registry version (an alias "
        "is followed: a promotion re-points the endpoint). The verbs below manage deployments.",
    )
    verbs = deploy.add_subparsers(title="deploy commands", metavar="VERB", required=True)
    create = verbs.add_parser(
        "create", parents=[common], help="serve a model on an endpoint (the default verb)"
    )
    create.add_argument("endpoint", metavar="ENDPOINT")
    create.add_argument("--model", required=True, metavar="NAME@ALIAS|NAME@vN")
    create.add_argument(
        "--canary", metavar="NAME@ALIAS|NAME@vN", help="a model to try on part of the traffic"
    )
    create.add_argument("--percent", type=float, help="the canary's share of requests (with --canary)")
    create.set_defaults(handler=run_deploy)
    verbs.add_parser("list", parents=[common], help="the deployments").set_defaults(handler=run_deploy_list)
    show = verbs.add_parser("show", parents=[common], help="a deployment and the versions it serves now")
    show.add_argument("endpoint", metavar="ENDPOINT")
    show.set_defaults(handler=run_deploy_show)
    remove = verbs.add_parser("remove", parents=[common], help="stop serving an endpoint")
    remove.add_argument("endpoint", metavar="ENDPOINT")
    remove.set_defaults(handler=run_deploy_remove)


def run_deploy(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "deploy") as engine:
        deployment = engine.deployments.deploy(args.endpoint, args.model, args.canary, args.percent)
    tried = f", {args.percent:g}% of requests to {args.canary}" if args.canary else ""
    serves = f"serves {args.model}{tried} (revision {deployment.revision})"
    out.emit(
        deployment.to_dict(),
        lambda console: console.print(f"Endpoint [bold]{deployment.endpoint}[/] {serves}"),
    )
    return 0


def run_deploy_list(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "deploy list") as engine:
        deployments = engine.deployments.all()
    rows = [
        [d.endpoint, d.strategy, _variants(d), d.updated_at.strftime("%Y-%m-%d %H:%M")] for d in deployments
    ]
    out.emit(
        {"deployments": [deployment.to_dict() for deployment in deployments]},
        lambda console: table(
            console,
            ["endpoint", "strategy", "models", "updated"],
            rows,
            empty="no deployments yet; `mlops deploy ENDPOINT --model NAME@champion` makes one",
        ),
    )
    return 0


def run_deploy_show(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "deploy show") as engine:
        deployment = engine.deployments.get(args.endpoint)
        served = next(e for e in engine.deployments.plan().endpoints if e.endpoint == args.endpoint)
    document = {**deployment.to_dict(), "serving": [variant.__dict__ for variant in served.variants]}

    def render(console: Console) -> None:
        console.print(
            f"[bold]{deployment.endpoint}[/] ({deployment.strategy}, revision {deployment.revision})"
        )
        table(
            console,
            ["role", "follows", "version", "ONNX sha256"],
            [[v.role, v.reference, f"{v.model} v{v.version}", v.sha256[:12]] for v in served.variants],
        )

    out.emit(document, render)
    return 0


def run_deploy_remove(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "deploy remove") as engine:
        removed = engine.deployments.remove(args.endpoint)
    out.emit(
        {**removed.to_dict(), "removed": True},
        lambda console: console.print(f"Endpoint [bold]{removed.endpoint}[/] removed"),
    )
    return 0


def _variants(deployment: Deployment) -> str:
    return ", ".join(f"{variant.role}: {variant.reference}" for variant in deployment.variants)
