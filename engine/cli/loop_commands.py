"""``mlops loop run|advance|history``: the automatic retrain loop by hand, and what it did."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from engine.cli.common import opened, table
from engine.cli.output import Output

if TYPE_CHECKING:
    from rich.console import Console

    from engine.types.monitoring import LoopRun


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    loop = commands.add_parser(
        "loop",
        parents=[common],
        help="the automatic retrain loop: a turn now, the canaries judged, its history",
        description="On drift, an accuracy drop or the weekly cron, the loop retrains the champion on "
        "its data plus the labelled production rows, serves the challenger as a canary and promotes or "
        "rolls it back ([loop] in config.toml; docs/monitoring.md).",
    )
    verbs = loop.add_subparsers(title="loop commands", metavar="VERB", required=True)
    turn = verbs.add_parser(
        "run", parents=[common], help="a turn of ENDPOINT now, whatever the cool-down and daily limit say"
    )
    turn.add_argument("endpoint", metavar="ENDPOINT")
    turn.set_defaults(handler=run_loop_run)
    verbs.add_parser(
        "advance", parents=[common], help="judge every canary that has had its requests or its time"
    ).set_defaults(handler=run_loop_advance)
    history = verbs.add_parser("history", parents=[common], help="the newest turns with their steps")
    history.add_argument("--endpoint", help="only this endpoint's turns")
    history.add_argument("--limit", type=int, default=10, help="how many turns (default 10)")
    history.set_defaults(handler=run_loop_history)


def run_loop_run(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "loop run") as engine:
        turn = engine.loop.run(args.endpoint)
    out.emit(turn.to_dict(), lambda console: _show(console, [turn]))
    return 0 if turn.outcome not in ("failed",) else 1


def run_loop_advance(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "loop advance") as engine:
        said = engine.loop.advance()
    out.emit({"canaries": said}, lambda console: console.print(said, markup=False))
    return 0


def run_loop_history(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "loop history") as engine:
        turns = engine.loop.history(args.limit, args.endpoint)
    out.emit({"turns": [turn.to_dict() for turn in turns]}, lambda console: _show(console, turns))
    return 0


def _show(console: Console, turns: list[LoopRun]) -> None:
    if not turns:
        console.print(
            "no turns of the loop yet ([loop] enabled = true, or `mlops loop run ENDPOINT`)", markup=False
        )
        return
    for turn in turns:
        challenger = f" -> v{turn.challenger_version}" if turn.challenger_version else ""
        console.print(
            f"turn {turn.id} ({turn.trigger}, {turn.started_at}): {turn.endpoint}, {turn.model} "
            f"v{turn.champion_version}{challenger}: {turn.outcome.upper()}"
            + (f" ({turn.reason})" if turn.reason else ""),
            markup=False,
        )
        table(
            console,
            ["at", "step", "status", "detail"],
            [[step.happened_at[11:19], step.step, step.status, step.detail] for step in turn.steps],
        )
