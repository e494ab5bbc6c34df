"""``mlops runs list``, ``mlops runs show``, ``mlops runs compare``, ``mlops runs reproduce``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from engine.cli.common import opened, styled, table
from engine.cli.output import Output
from engine.cli.progress import progress_bar
from engine.formatting import number

if TYPE_CHECKING:
    from rich.console import Console

LISTED_METRICS = ("f1", "roc_auc", "accuracy", "log_loss")


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    runs = commands.add_parser("runs", parents=[common], help="tracked training runs")
    verbs = runs.add_subparsers(title="runs commands", metavar="VERB", required=True)
    listing = verbs.add_parser("list", parents=[common], help="runs, filtered and sorted")
    listing.add_argument("--experiment")
    listing.add_argument(
        "--filter", default="", help="e.g. \"metrics.f1 > 0.8 and (params.max_depth = '5' or ...)\""
    )
    listing.add_argument("--order-by", default="", help='e.g. "metrics.f1 DESC"')
    listing.add_argument("--limit", type=int, default=100)
    listing.set_defaults(handler=run_list)
    show = verbs.add_parser("show", parents=[common], help="one run's params, metrics and tags")
    show.add_argument("run", metavar="RUN", help="run id, unique id prefix or run name")
    show.set_defaults(handler=run_show)
    compare = verbs.add_parser("compare", parents=[common], help="runs side by side")
    compare.add_argument("runs", nargs="+", metavar="RUN")
    compare.set_defaults(handler=run_compare)
    reproduce = verbs.add_parser("reproduce", parents=[common], help="retrain a run from what it recorded")
    reproduce.add_argument("run", metavar="RUN")
    reproduce.set_defaults(handler=run_reproduce)


def run_list(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "runs list") as engine:
        runs = engine.runs.search(args.experiment, args.filter, args.order_by, args.limit)
    # The id last: a narrow terminal drops trailing columns, and the name already names the run.
    rows = [
        [
            run.run_name,
            run.model,
            run.dataset,
            run.status,
            *(number(run.metrics.get(m)) for m in LISTED_METRICS),
            run.run_id[:8],
        ]
        for run in runs
    ]
    headers = ["run", "model", "data", "status", *LISTED_METRICS, "id"]
    out.emit(
        {"runs": [run.to_dict() for run in runs]},
        lambda console: table(console, headers, rows, empty="no runs match"),
    )
    return 0


def run_show(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "runs show") as engine:
        run = engine.runs.get(args.run)

    def render(console: Console) -> None:
        from rich.markup import escape

        console.print(
            f"[bold]{escape(run.run_name)}[/] {run.run_id}  {run.status}  "
            f"experiment {escape(run.experiment)}  started {_time(run.start_time)}"
        )
        table(console, ["param", "value"], [[k, v] for k, v in sorted(run.params.items())], empty="no params")
        table(
            console,
            ["metric", "value"],
            [[k, number(v)] for k, v in sorted(run.metrics.items())],
            empty="no metrics",
        )
        tags = [[k, v] for k, v in sorted(run.tags.items()) if not k.startswith("mlflow.")]
        table(console, ["tag", "value"], tags, empty="no tags")

    out.emit(run.to_dict(), render)
    return 0


def run_compare(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "runs compare") as engine:
        comparison = engine.runs.compare(args.runs)
    names = [run.run_name for run in comparison.runs]

    def render(console: Console) -> None:
        param_rows = [
            [
                styled(f"[yellow]≠ {name}[/]") if name in comparison.differing_params else f"  {name}",
                *(value if value is not None else "" for value in values),
            ]
            for name, values in comparison.params.items()
        ]
        table(console, ["param", *names], param_rows)
        metric_rows = [
            [
                name,
                *(
                    styled(f"[bold green]★ {number(value)}[/]")
                    if comparison.best.get(name) == i
                    else number(value)
                    for i, value in enumerate(values)
                ),
            ]
            for name, values in comparison.metrics.items()
        ]
        table(console, ["metric (★ best)", *names], metric_rows)
        table(console, ["", *names], [["data", *(run.dataset for run in comparison.runs)]])

    out.emit(comparison.to_dict(), render)
    return 0


def run_reproduce(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "runs reproduce") as engine, progress_bar(out) as report:
        result = engine.training.reproduce(args.run, report)

    def render(console: Console) -> None:
        from rich.markup import escape

        verdict = "[green]reproduced exactly[/]" if result.exact else "[red]did not reproduce exactly[/]"
        console.print(f"Run {escape(result.run.run_name)} ({result.run.run_id}) {verdict}")
        rows = [
            [
                c.name,
                number(c.original),
                number(c.reproduced),
                "✓" if c.matches else f"✗ {c.reproduced - c.original:+.3g}",
            ]
            for c in result.checks
        ]
        table(console, ["metric", "original", "reproduced", "same"], rows)

    out.emit(result.to_dict(), render)
    return 0 if result.exact else 1


def _time(milliseconds: int | None) -> str:
    return (
        datetime.fromtimestamp(milliseconds / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S") if milliseconds else ""
    )
