"""``mlops demo``: the whole lifecycle on the sample data, in a workspace of its own.

The work is the engine's (``engine.demo``, through the facade); this module opens the
workspace for it, shows a progress bar and prints the story (or one JSON document).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from engine.cli.common import hosted_engine, table, with_spinner
from engine.cli.output import Output
from engine.cli.progress import progress_bar
from engine.errors import InvalidInput, MlopsError, WorkspaceLocked

if TYPE_CHECKING:
    from rich.console import Console

DEFAULT_DIRECTORY = "demo-workspace"


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    demo = commands.add_parser(
        "demo",
        parents=[common],
        help="run the whole lifecycle on the sample data in a demo workspace (created if absent)",
        description="Ingest and validate the sample data, train, sweep, run the pipeline, evaluate, "
        "promote, serve, replay four production weeks with the monitors watching, ingest late labels "
        "and let the retrain loop canary a challenger. Run again, it adds nothing. The workspace is "
        f"--workspace DIR (default ./{DEFAULT_DIRECTORY}).",
    )
    demo.add_argument(
        "--console",
        action="store_true",
        help="run it inside the console, each screen following the demo as it goes (the console "
        "opens at once; on a workspace whose demo finished, it just opens)",
    )
    # Not set_defaults(workspace=...): --workspace is one action shared by every command (their
    # common parent), so a default set here would become every command's.
    demo.set_defaults(handler=run_demo, run_here=True)


def run_demo(args: argparse.Namespace, out: Output) -> int:
    if hosted_engine.get() is not None:
        raise InvalidInput(
            "another process owns this workspace (`mlops status` names it): the demo needs it to "
            "itself; stop the owner or choose another --workspace"
        )
    from engine.cli import host_commands
    from engine.facade import Engine

    directory = args.workspace or DEFAULT_DIRECTORY
    if args.console:
        return _in_console(args, out, directory)
    with Engine.open_demo(directory, command="mlops demo") as engine:
        host_commands(engine)  # the inference server's processes reach the workspace through it
        with progress_bar(out) as progress:
            report = engine.demo.run(progress)
    document = report.to_dict()
    out.emit(document, lambda console: _show(console, document))
    return 0


def _in_console(args: argparse.Namespace, out: Output, directory: str) -> int:
    """Ready the workspace here (a new one takes a few seconds: MLflow's store), then open the
    console, which runs the demo once it has the workspace open (console/demo_tour.py)."""
    from engine.facade import Engine

    if out.as_json:
        raise InvalidInput("--json with --console: the console shows the demo; choose one")
    if args.open_console is None:
        raise MlopsError("the console is not available here; run `mlops demo --console` from mlops-console")
    making = f"Making {directory} ready for the demo…"
    try:
        to_run = with_spinner(out, making, lambda: Engine.prepare_demo(directory))
    except WorkspaceLocked:  # a console or `mlops up` owns it (the demo may be running there): join it
        to_run = False
    return int(args.open_console(directory, demo=to_run))


def _show(console: Console, report: dict[str, Any]) -> None:
    def say(text: str, style: str = "") -> None:
        console.print(text, markup=False, highlight=False, style=style)

    if not report["added"]:
        say(f"The demo already ran in {report['workspace']}: nothing added. What it did:", "bold")
    else:
        say(f"The demo ran in {report['workspace']} in {report['seconds']:.0f} s.", "bold")
    say("\nData versions (the required suite validated each week as it landed)", "bold")
    table(console, ["version", "source", "rows", "status"],
          [[v["ref"], v["source"], f"{v['rows']:,}", v["status"]] for v in report["versions"]])  # fmt: skip
    say("\nRuns (f1 on held-out rows)", "bold")
    table(console, ["run", "model", "how", "f1"],
          [[r["name"], r["model"], r["how"], f"{r['f1']:.3f}"] for r in report["runs"]])  # fmt: skip
    pipeline = report["pipeline"]
    say(
        f"Pipeline run {pipeline['id']}: {pipeline['status']}"
        + (f" ({pipeline['reason']})" if pipeline["reason"] else "")
        + (f", registered {pipeline['registered']}" if pipeline["registered"] else "")
    )
    best = report["best"]
    say(f"\nBest: {best['name']} (f1 {best['f1']:.3f}) as churn v{best['version']}", "bold")
    for attribute, figures in best["fairness"].items():
        ratio = figures["demographic_parity_ratio"]
        shown = "not judged" if ratio is None else f"parity ratio {ratio:.2f}"
        say(f"  fairness {attribute}: {shown}; violations: {', '.join(figures['violations']) or 'none'}")
    say(f"  fairness bounds: {report['fairness']}")
    say(f"  promoted{' (forced)' if best['forced'] else ''} through the gates; ONNX at {best['onnx']}")
    say("\nThe monitors after each replayed week (drift: the live window against the training data)", "bold")
    if report["drift"]:
        say(f"  {report['drift']}")
    table(console, ["after", "drift", "accuracy"],
          [[str(c["week"]), c.get("drift", ""), c["accuracy"]] for c in report["checks"]])  # fmt: skip
    say("\nAlerts", "bold")
    table(console, ["when", "source", "severity", "message"],
          [[a["when"], a["source"], a["severity"], a["message"]] for a in report["alerts"]],
          empty="none")  # fmt: skip
    loop = report["loop"]
    say("\nThe retrain loop", "bold")
    say(
        f"turn {loop['id']} ({loop['trigger']}): {loop['champion']} -> "
        f"{loop['challenger'] or 'no challenger'}: {loop['outcome'].upper()}"
        + (f" ({loop['reason']})" if loop["reason"] else "")
    )
    say(f"Champion before the loop: {report['champion_before']}; after: {report['champion_after']}")
    say("\nWhere to look next", "bold")
    for step in report["next_steps"]:
        say(f"  {step}")
