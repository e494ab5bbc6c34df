"""``mlops deploy ...``: ENDPOINT --model REF [a strategy] (create or replace), list, show,
remove, switch (blue/green), compare (the variants on live traffic and late labels)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from engine.cli.common import opened, table
from engine.cli.output import Output

if TYPE_CHECKING:
    from rich.console import Console

    from engine.types.serving import Deployment, Estimate


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
    reference = "NAME@ALIAS|NAME@vN"
    create.add_argument("--canary", metavar=reference, help="a model to try on part of the traffic")
    create.add_argument("--percent", type=float, help="the canary's share of requests (with --canary)")
    create.add_argument(
        "--shadow", metavar=reference, help="a model that answers every request too, only into the log"
    )
    create.add_argument(
        "--staged", metavar=reference, help="blue/green: a model loaded beside, live after `deploy switch`"
    )
    create.add_argument("--ab", metavar=reference, help="an A/B test's second model (with --split, --key)")
    create.add_argument("--split", type=float, help="the share of keys (percent) the --ab model answers")
    create.add_argument(
        "--key", help="what keeps a caller on one side of the A/B test: a feature, X-Entity's key or a header"
    )
    create.set_defaults(handler=run_deploy)
    verbs.add_parser("list", parents=[common], help="the deployments").set_defaults(handler=run_deploy_list)
    show = verbs.add_parser("show", parents=[common], help="a deployment and the versions it serves now")
    show.add_argument("endpoint", metavar="ENDPOINT")
    show.set_defaults(handler=run_deploy_show)
    remove = verbs.add_parser("remove", parents=[common], help="stop serving an endpoint")
    remove.add_argument("endpoint", metavar="ENDPOINT")
    remove.set_defaults(handler=run_deploy_remove)
    switch = verbs.add_parser(
        "switch", parents=[common], help="blue/green: move all traffic to the staged model at once"
    )
    switch.add_argument("endpoint", metavar="ENDPOINT")
    switch.set_defaults(handler=run_deploy_switch)
    compare = verbs.add_parser(
        "compare",
        parents=[common],
        help="the variants side by side: agreement, accuracy and cost with labels",
    )
    compare.add_argument("endpoint", metavar="ENDPOINT")
    compare.set_defaults(handler=run_deploy_compare)


def run_deploy(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "deploy") as engine:
        deployment = engine.deployments.deploy(
            args.endpoint,
            args.model,
            canary=args.canary,
            percent=args.percent,
            shadow=args.shadow,
            staged=args.staged,
            ab=args.ab,
            split=args.split,
            key=args.key,
        )
    serves = f"serves {_variants(deployment)} ({deployment.strategy}, revision {deployment.revision})"
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


def run_deploy_switch(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "deploy switch") as engine:
        deployment = engine.deployments.switch(args.endpoint)
    live = deployment.settings["live"]
    reference = next(v.reference for v in deployment.variants if v.role == live)
    out.emit(
        deployment.to_dict(),
        lambda console: console.print(
            f"Endpoint [bold]{deployment.endpoint}[/]: all traffic now goes to {live} ({reference}); "
            "`mlops deploy switch` again moves it back"
        ),
    )
    return 0


def run_deploy_compare(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "deploy compare") as engine:
        comparison = engine.deployments.compare(args.endpoint)

    def render(console: Console) -> None:
        console.print(f"[bold]{comparison.endpoint}[/] ({comparison.strategy})")
        table(
            console,
            [
                "variant",
                "model",
                "predictions",
                "labelled",
                "mean score",
                "accuracy [95% CI]",
                "cost / prediction",
            ],
            [
                [
                    v.variant,
                    f"{v.model} v{v.version}",
                    f"{v.predictions:,}",
                    f"{v.labelled:,}",
                    "" if v.mean_score is None else f"{v.mean_score:.3f}",
                    _estimate(v.accuracy, ".3f"),
                    _estimate(v.cost_per_prediction, ".2f"),
                ]
                for v in comparison.variants
            ],
        )
        if comparison.shadow is not None and comparison.shadow.pairs:
            shadow = comparison.shadow
            console.print(
                f"shadow agrees on {shadow.agreement:.1%} of {shadow.pairs:,} rows; score difference "
                f"{shadow.mean_score_difference:+.4f} on average, "
                f"{shadow.max_absolute_score_difference:.4f} at most"
            )
        for difference in comparison.differences:
            console.print(
                f"{difference.metric}: {difference.difference:+.4g} "
                f"({difference.test}, p = {difference.p_value:.3g})"
            )
        console.print(comparison.verdict)

    out.emit(comparison.to_dict(), render)
    return 0


def _estimate(estimate: Estimate | None, spec: str) -> str:
    if estimate is None:
        return ""
    return f"{estimate.value:{spec}} [{estimate.low:{spec}}, {estimate.high:{spec}}]"


def _variants(deployment: Deployment) -> str:
    return ", ".join(f"{variant.role}: {variant.reference}" for variant in deployment.variants)
