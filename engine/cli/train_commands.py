"""``mlops train``, ``mlops sweep`` and ``mlops models catalogue``."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from engine.cli.common import opened, table
from engine.cli.output import Output
from engine.cli.progress import progress_bar
from engine.formatting import number
from engine.types.training import (
    RUN_METRICS,
    SweepRequest,
    TrainRequest,
    parse_columns,
    parse_grid,
    parse_params,
    parse_positive_class,
)

if TYPE_CHECKING:
    from rich.console import Console

POSITIVE_CLASS_HELP = (
    "a binary target's class to predict (precision, recall and f1 score it); needed unless its "
    "labels are 0/1, false/true, no/yes, n/y or f/t"
)


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    train = commands.add_parser("train", parents=[common], help="train a catalogue model, tracked in MLflow")
    train.add_argument("--dataset", required=True, metavar="NAME[@vN]")
    train.add_argument("--target", required=True)
    train.add_argument("--model", default="random_forest", help="a model from `mlops models catalogue`")
    train.add_argument("--features", help="columns to use (default: all but the target, timestamps and ids)")
    train.add_argument(
        "--feature-view",
        action="append",
        default=[],
        metavar="VIEW:FEATURE[,...]",
        help="features joined point in time from the feature store",
    )
    train.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a model parameter")
    train.add_argument("--experiment", default="default")
    train.add_argument("--run-name")
    train.add_argument("--split", default="random", choices=["random", "time"])
    train.add_argument("--test-size", type=float, default=0.2)
    train.add_argument("--seed", type=int, default=42)
    train.add_argument("--positive-class", metavar="LABEL", help=POSITIVE_CLASS_HELP)
    train.set_defaults(handler=run_train)

    sweep = commands.add_parser("sweep", parents=[common], help="grid or random search, trials in parallel")
    sweep.add_argument("--dataset", required=True, metavar="NAME[@vN]")
    sweep.add_argument("--target", required=True)
    sweep.add_argument("--model", default="random_forest")
    sweep.add_argument("--features", help="columns to use (default: all but the target, timestamps and ids)")
    sweep.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2", help="grid search values")
    sweep.add_argument("--trials", type=int, help="random search: this many draws from the catalogue's space")
    sweep.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="parallel trials (default: cores)"
    )
    sweep.add_argument(
        "--metric",
        default="f1",
        help=f"what ranks the trials, in its own direction (log_loss: lower is better); one of "
        f"{', '.join(RUN_METRICS)} (default f1)",
    )
    sweep.add_argument("--experiment", default="default")
    sweep.add_argument("--run-name")
    sweep.add_argument("--seed", type=int, default=42)
    sweep.add_argument("--positive-class", metavar="LABEL", help=POSITIVE_CLASS_HELP)
    sweep.set_defaults(handler=run_sweep)


def run_train(args: argparse.Namespace, out: Output) -> int:
    request = TrainRequest(
        dataset=args.dataset,
        target=args.target,
        model=args.model,
        features=parse_columns(args.features),
        feature_views=[ref.strip() for item in args.feature_view for ref in item.split(",") if ref.strip()],
        params=parse_params(args.param),
        experiment=args.experiment,
        run_name=args.run_name,
        split=args.split,
        test_size=args.test_size,
        seed=args.seed,
        positive_class=parse_positive_class(args.positive_class),
    )
    with opened(args, "train") as engine, progress_bar(out) as report:
        result = engine.training.train(request, report)

    def render(console: Console) -> None:
        from rich.markup import escape

        console.print(
            f"Run [bold]{escape(result.run_name)}[/] ({result.run_id}) in experiment "
            f"{escape(result.experiment)}: {result.model} on {result.dataset}"
        )
        if result.positive_class is not None:
            console.print(f"positive class: {escape(result.positive_class)}")
        rows = [[name, number(value)] for name, value in result.metrics.items()]
        table(console, ["metric (held-out rows)", "value"], rows)
        console.print(f"fit {result.fit_seconds:.2f} s, whole run {result.total_seconds:.2f} s")

    out.emit(result.to_dict(), render)
    return 0


def run_sweep(args: argparse.Namespace, out: Output) -> int:
    base = TrainRequest(
        dataset=args.dataset,
        target=args.target,
        model=args.model,
        features=parse_columns(args.features),
        experiment=args.experiment,
        run_name=args.run_name,
        seed=args.seed,
        positive_class=parse_positive_class(args.positive_class),
    )
    request = SweepRequest(base, parse_grid(args.grid), args.trials, args.workers, args.metric)
    with opened(args, "sweep") as engine, progress_bar(out) as report:
        result = engine.training.sweep(request, report)

    def render(console: Console) -> None:
        from rich.markup import escape

        state = "[yellow]interrupted[/]" if result.interrupted else "finished"
        console.print(
            f"Sweep [bold]{escape(result.parent_run_name)}[/] ({result.parent_run_id}) {state}: "
            f"{len(result.trials)} trials"
        )
        best = result.best
        rows = [
            [
                ("★ " if trial is best else "  ") + trial.run_name,
                number(trial.metrics[result.metric]),
                ", ".join(f"{name}={number(trial.params.get(name))}" for name in result.searched),
            ]
            for trial in result.ranked
        ]
        table(console, ["trial", result.metric, "params"], rows)

    out.emit(result.to_dict(), render)
    return 130 if result.interrupted else 0


def run_catalogue(args: argparse.Namespace, out: Output) -> int:
    from engine.facade import Engine

    models = Engine.catalogue()
    rows = [
        [model.name, model.description, ", ".join(f"{k}={v}" for k, v in model.defaults.items())]
        for model in models
    ]
    out.emit(
        {"models": [model.to_dict() for model in models]},
        lambda console: table(console, ["model", "what", "defaults"], rows),
    )
    return 0
