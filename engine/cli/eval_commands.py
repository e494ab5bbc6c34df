"""``mlops eval``: a run or a registered alias scored with business impact and fairness."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from engine.cli.common import opened, table
from engine.cli.output import Output
from engine.cli.progress import progress_bar
from engine.formatting import number
from engine.types.evaluation import Evaluation

if TYPE_CHECKING:
    from rich.console import Console


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    evaluate = commands.add_parser(
        "eval", parents=[common], help="score a run or MODEL@ALIAS: metrics, business impact, fairness"
    )
    evaluate.add_argument(
        "subject", metavar="RUN|MODEL@ALIAS", help="a run id, id prefix or name; or churn@champion"
    )
    evaluate.add_argument(
        "--dataset", metavar="NAME@vN", help="labelled rows to score (default: the run's held-out rows)"
    )
    evaluate.add_argument("--no-log", action="store_true", help="do not log the evaluation to the MLflow run")
    evaluate.set_defaults(handler=run_eval)


def run_eval(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "eval") as engine, progress_bar(out) as report:
        evaluation = engine.evaluation.evaluate(
            args.subject, args.dataset, log=not args.no_log, progress=report
        )
    out.emit(evaluation.to_dict(), lambda console: render(console, evaluation))
    return 0


def render(console: Console, evaluation: Evaluation) -> None:
    from rich.markup import escape
    from rich.text import Text

    scores = evaluation.scores
    skipped = (
        f", {evaluation.unlabelled_rows:,} without a label skipped" if evaluation.unlabelled_rows else ""
    )
    console.print(
        f"[bold]{escape(evaluation.subject)}[/] on {evaluation.dataset}: {evaluation.scope}, "
        f"{evaluation.rows:,} rows{skipped} (evaluation {evaluation.id})"
    )
    table(console, ["metric", "value"], [[name, number(value)] for name, value in scores.metrics.items()])
    c = scores.confusion
    table(
        console,
        ["at threshold 0.5", "predicted 0", "predicted 1"],
        [["actual 0", number(c.tn), number(c.fp)], ["actual 1", number(c.fn), number(c.tp)]],
    )
    best, cheapest, business = scores.best_f1_threshold, scores.cheapest_threshold, scores.business
    table(
        console,
        ["business impact", "value"],
        [
            [
                "cost of a missed positive / a false alarm",
                f"{money(business.cost_false_negative)} / {money(business.cost_false_positive)}",
            ],
            ["cost at threshold 0.5", money(business.cost_at_0_5)],
            [f"cost at the cheapest threshold ({cheapest.threshold:.2f})", money(business.cost_at_cheapest)],
            [
                "cost acting on nobody / everybody",
                f"{money(business.cost_acting_on_nobody)} / {money(business.cost_acting_on_everybody)}",
            ],
            ["savings vs the better of those", money(business.savings_vs_best_baseline)],
            [f"threshold maximising f1 ({best.threshold:.2f})", f"f1 {number(best.f1)}"],
        ],
    )
    calibration = [
        [
            f"{row.low:.1f} to {row.high:.1f}",
            number(row.count),
            number(row.mean_predicted),
            number(row.observed_rate),
        ]
        for row in scores.calibration
        if row.count
    ]
    table(console, ["predicted", "rows", "mean predicted", "observed rate"], calibration)
    for item in evaluation.fairness:
        rows = [
            [
                Text(group.group).append(" (too small)", style="dim") if group.too_small else group.group,
                number(group.rows),
                number(group.positive_rate),
                number(group.tpr),
                number(group.fpr),
                number(group.precision),
            ]
            for group in item.groups
        ]
        table(console, [f"{item.attribute}", "rows", "positive rate", "TPR", "FPR", "precision"], rows)
        if not item.judged:
            console.print(f"  {item.attribute}: fewer than two groups large enough to judge")
            continue
        console.print(
            f"  parity ratio {number(item.demographic_parity_ratio)}, parity difference "
            f"{number(item.demographic_parity_difference)}, equal opportunity difference "
            f"{number(item.equal_opportunity_difference)}, equalised odds difference "
            f"{number(item.equalized_odds_difference)}"
        )
        for violation in item.violations:
            console.print(f"  ✗ violation: {violation}", style="red", markup=False)


def money(value: float) -> str:
    return f"{value:,.0f}"
