"""``mlops train``, ``mlops sweep`` and ``mlops models catalogue``."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from engine.cli.data_commands import opened, table
from engine.cli.output import Output
from engine.cli.progress import progress_bar
from engine.errors import InvalidInput
from engine.formatting import number

if TYPE_CHECKING:
    from rich.console import Console


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
    sweep.add_argument("--metric", default="f1", help="what the best trial maximises (default f1)")
    sweep.add_argument("--experiment", default="default")
    sweep.add_argument("--run-name")
    sweep.add_argument("--seed", type=int, default=42)
    sweep.set_defaults(handler=run_sweep)


def run_train(args: argparse.Namespace, out: Output) -> int:
    from engine.training.trainer import TrainRequest

    params = {}
    for item in args.param:
        name, separator, value = item.partition("=")
        if not separator or not name:
            raise InvalidInput(f"--param {item!r}: expected NAME=VALUE, e.g. n_estimators=200")
        params[name] = value
    request = TrainRequest(
        dataset=args.dataset,
        target=args.target,
        model=args.model,
        features=[f.strip() for f in args.features.split(",") if f.strip()] if args.features else None,
        feature_views=[ref.strip() for item in args.feature_view for ref in item.split(",") if ref.strip()],
        params=params,
        experiment=args.experiment,
        run_name=args.run_name,
        split=args.split,
        test_size=args.test_size,
        seed=args.seed,
    )
    with opened(args, "train") as engine, progress_bar(out) as report:
        result = engine.training.train(request, report)

    def render(console: Console) -> None:
        console.print(
            f"Run [bold]{result.run_name}[/] ({result.run_id}) in experiment {result.experiment}: "
            f"{result.model} on {result.dataset}"
        )
        rows = [[name, number(value)] for name, value in result.metrics.items()]
        table(console, ["metric (held-out rows)", "value"], rows)
        console.print(f"fit {result.fit_seconds:.2f} s, whole run {result.total_seconds:.2f} s")

    out.emit(result.to_dict(), render)
    return 0


def run_sweep(args: argparse.Namespace, out: Output) -> int:
    from engine.training import sweep
    from engine.training.catalogue import model_spec
    from engine.training.trainer import TrainRequest

    base = TrainRequest(
        dataset=args.dataset,
        target=args.target,
        model=args.model,
        features=[f.strip() for f in args.features.split(",") if f.strip()] if args.features else None,
        experiment=args.experiment,
        run_name=args.run_name,
        seed=args.seed,
    )
    grid = sweep.parse_grid(args.grid)
    candidates = sweep.candidates_for(base, grid, args.trials)
    searched = list(grid) or list(model_spec(args.model).search_space)
    with opened(args, "sweep") as engine, progress_bar(out) as report:
        result = sweep.run_sweep(engine.training, base, candidates, args.workers, args.metric, report)

    def render(console: Console) -> None:
        state = "[yellow]interrupted[/]" if result.interrupted else "finished"
        console.print(
            f"Sweep [bold]{result.parent_run_name}[/] ({result.parent_run_id}) {state}: "
            f"{len(result.trials)} trials"
        )
        best = result.best
        rows = [
            [
                ("★ " if trial is best else "  ") + trial.run_name,
                number(trial.metrics[result.metric]),
                ", ".join(f"{name}={number(trial.params.get(name))}" for name in searched),
            ]
            for trial in sorted(result.trials, key=lambda t: -t.metrics[result.metric])
        ]
        table(console, ["trial", result.metric, "params"], rows)

    out.emit(result.to_dict(), render)
    return 130 if result.interrupted else 0


def run_catalogue(args: argparse.Namespace, out: Output) -> int:
    from engine.training.catalogue import CATALOGUE

    document = {
        "models": [
            {
                "name": spec.name,
                "description": spec.description,
                "defaults": spec.defaults,
                "search_space": {name: list(space) for name, space in spec.search_space.items()},
            }
            for spec in CATALOGUE.values()
        ]
    }
    rows = [
        [spec.name, spec.description, ", ".join(f"{k}={v}" for k, v in spec.defaults.items())]
        for spec in CATALOGUE.values()
    ]
    out.emit(document, lambda console: table(console, ["model", "what", "defaults"], rows))
    return 0
