"""``mlops drift`` (data drift, as Evidently decides it) and ``mlops alerts list|ack``."""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

from engine.cli.common import client_path, opened, table
from engine.cli.output import Output
from engine.errors import InvalidInput

if TYPE_CHECKING:
    from rich.console import Console

    from engine.types.monitoring import JobRun


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    drift = commands.add_parser(
        "drift",
        parents=[common],
        help="test every column of one dataset version against another for drift",
        description="Evidently 0.7's DataDriftPreset, computed from DuckDB: the test chosen by the "
        "reference's size and each column's kind, its threshold, and dataset drift when at least half "
        "of the columns drift.",
    )
    sources = "NAME@vN, model:NAME@ALIAS (its training data) or live:ENDPOINT (its traffic)"
    drift.add_argument(
        "--reference", required=True, metavar="SOURCE", help=f"the data to compare against: {sources}"
    )
    drift.add_argument("--current", required=True, metavar="SOURCE", help=f"the data to test: {sources}")
    drift.add_argument(
        "--since", metavar="DURATION", help="a live source's window: 30m, 1h, 2d (default: all)"
    )
    drift.add_argument("--columns", help="only these columns, comma-separated (default: every shared one)")
    drift.add_argument(
        "--method",
        action="append",
        default=[],
        metavar="[COLUMN=]TEST",
        help="a test for one column, or for all: ks, chisquare, z, wasserstein, jensenshannon, psi, "
        "kl_div, hellinger (repeatable)",
    )
    drift.add_argument(
        "--threshold", action="append", default=[], metavar="[COLUMN=]X", help="a threshold (repeatable)"
    )
    drift.add_argument(
        "--drift-share", type=float, default=0.5, help="the share of drifted columns that is dataset drift"
    )
    drift.add_argument(
        "--html", metavar="PATH", help="also write Evidently's own HTML report for the same data"
    )
    drift.set_defaults(handler=run_drift)

    accuracy = commands.add_parser(
        "accuracy", parents=[common], help="an endpoint's live accuracy from late labels, window by window"
    )
    accuracy.add_argument("endpoint", metavar="ENDPOINT")
    accuracy.add_argument("--window", help="the windows' length: 1d, 7d, ... (default: [accuracy] window)")
    accuracy.add_argument(
        "--metric", help="accuracy, precision, recall, f1 or roc_auc (default: [accuracy] metric)"
    )
    accuracy.set_defaults(handler=run_accuracy)

    monitor = commands.add_parser("monitor", parents=[common], help="run the monitors")
    monitor_verbs = monitor.add_subparsers(title="monitor commands", metavar="VERB", required=True)
    monitor_verbs.add_parser(
        "run", parents=[common], help="every monitor once, now (drift, accuracy, validation, retention)"
    ).set_defaults(handler=run_monitor_run)

    jobs = commands.add_parser("jobs", parents=[common], help="the monitors' schedule and its history")
    job_verbs = jobs.add_subparsers(title="jobs commands", metavar="VERB", required=True)
    job_verbs.add_parser("list", parents=[common], help="the jobs, their schedule and last run").set_defaults(
        handler=run_jobs_list
    )
    for verb, handler, text in (
        ("run", run_jobs_run, "run a job now"),
        ("pause", run_jobs_pause, "stop a job from running on its schedule (kept across restarts)"),
        ("resume", run_jobs_resume, "put a paused job back on its schedule"),
    ):
        parser = job_verbs.add_parser(verb, parents=[common], help=text)
        parser.add_argument("job", metavar="JOB")
        parser.set_defaults(handler=handler)
    history = job_verbs.add_parser("history", parents=[common], help="the newest runs, of one job or all")
    history.add_argument("job", metavar="JOB", nargs="?")
    history.add_argument("--limit", type=int, default=20)
    history.set_defaults(handler=run_jobs_history)

    alerts = commands.add_parser("alerts", parents=[common], help="what the monitors raised")
    verbs = alerts.add_subparsers(title="alerts commands", metavar="VERB", required=True)
    listed = verbs.add_parser("list", parents=[common], help="the open alerts, newest first")
    listed.add_argument("--all", action="store_true", help="acknowledged ones too")
    listed.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    listed.set_defaults(handler=run_alerts_list)
    ack = verbs.add_parser("ack", parents=[common], help="acknowledge an alert (the next occurrence is new)")
    ack.add_argument("alert_id", type=int, metavar="ID")
    ack.set_defaults(handler=run_alerts_ack)


def run_drift(args: argparse.Namespace, out: Output) -> int:
    methods = _methods(args.method)
    thresholds = _thresholds(args.threshold)
    if not 0 < args.drift_share <= 1:
        raise InvalidInput(f"--drift-share {args.drift_share:g}: expected more than 0 and at most 1")
    columns = [name.strip() for name in args.columns.split(",") if name.strip()] if args.columns else None
    with opened(args, "drift") as engine:
        report = engine.drift.check(
            args.reference,
            args.current,
            columns,
            methods,
            thresholds,
            args.drift_share,
            args.since,
            client_path(args.html) if args.html else None,
        )
    document = report.to_dict()
    html = report.html

    def render(console: Console) -> None:
        table(
            console,
            ["column", "kind", "test", "statistic", "threshold", "drift"],
            [
                [
                    name,
                    c.kind,
                    c.method,
                    f"{c.statistic:.4g}",
                    f"{c.threshold:g}",
                    "DRIFT" if c.drifted else "no",
                ]
                for name, c in report.columns.items()
            ],
        )
        for what, beside in (("prediction", report.prediction), ("target", report.target)):
            if beside is not None:
                verdict = "DRIFT" if beside.drifted else "no drift"
                console.print(
                    f"{what} drift ({beside.method}): {beside.statistic:.4g} against "
                    f"{beside.threshold:g}, {verdict}"
                )
        for name, reason in report.skipped.items():
            console.print(f"not tested: {name}: {reason}", markup=False, highlight=False)
        if not report.columns:
            console.print(f"not enough data: no column of {report.current} could be tested")
            return
        verdict = "dataset drift" if report.dataset_drift else "no dataset drift"
        console.print(
            f"[bold]{verdict}[/]: {report.drifted_count} of {len(report.columns)} columns drifted "
            f"({report.share_drifted:.0%}; the line is {report.drift_share:.0%}), {report.current} against "
            f"{report.reference}, in {report.seconds:.2f} s"
        )
        if html:
            console.print(f"Evidently's report: {html}", markup=False, highlight=False)

    out.emit(document, render)
    return 0


def run_accuracy(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "accuracy") as engine:
        report = engine.accuracy.check(args.endpoint, args.window, args.metric)

    def render(console: Console) -> None:
        for estimated in (False, True):
            shown = [w for w in report.windows if (w.estimated is not None if estimated else w.labelled)]
            if estimated and not shown:
                continue
            console.print(
                f"Estimated from the scores (CBPE), every prediction, {report.window} windows:"
                if estimated
                else f"Realised, the labelled predictions, {report.window} windows:",
                markup=False,
            )
            table(
                console,
                ["from", "variant", "model", "rows", "labelled", *METRIC_COLUMNS],
                [
                    [
                        w.window_start[:10],
                        w.variant,
                        f"{w.model} v{w.version}",
                        f"{w.predictions:,}",
                        f"{w.labelled:,}",
                        *(_figure(w.value(metric, estimated)) for metric in METRIC_COLUMNS),
                    ]
                    for w in shown
                ],
                empty=f"no labelled predictions for {report.endpoint} yet (`mlops labels ingest FILE`)",
            )
        for check in report.checks:
            if check.value is None:
                continue
            rows = "predictions" if check.estimated else "labels"
            if check.below is None:
                said = f"too few {rows} to judge ({check.labelled:,})"
            elif check.floor is not None:
                said = f"{'BELOW' if check.below else 'above'} its floor {check.floor:.3f}"
            else:
                said = "no evaluation to compare with"
            how = "estimated" if check.estimated else "realised"
            console.print(
                f"{check.variant} ({check.model} v{check.version}): {check.metric} {check.value:.3f} {how}"
                f" in the newest {report.window} with {rows}, {said}",
                markup=False,
            )

    out.emit(report.to_dict(), render)
    return 0


METRIC_COLUMNS = ("accuracy", "precision", "recall", "f1", "roc_auc")


def _figure(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def run_monitor_run(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "monitor run") as engine:
        found = engine.monitors.run_all()

    def render(console: Console) -> None:
        for name, said in found.items():
            console.print(f"{name}: {said}", markup=False)

    out.emit({"monitors": found}, render)
    return 0


def run_jobs_list(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "jobs list") as engine:
        jobs = engine.scheduler.jobs()

    def render(console: Console) -> None:
        table(
            console,
            ["job", "schedule", "state", "next run", "last run", "last status", "took"],
            [
                [
                    job.name,
                    job.schedule,
                    "paused" if job.paused else ("scheduled" if job.scheduling else "not scheduled here"),
                    job.next_run_at or "",
                    job.last_run.started_at if job.last_run else "never",
                    job.last_run.status if job.last_run else "",
                    f"{job.last_run.seconds:.2f} s"
                    if job.last_run and job.last_run.seconds is not None
                    else "",
                ]
                for job in jobs
            ],
            empty="no jobs: every monitor is switched off in [monitors]",
        )
        if jobs and not jobs[0].scheduling:
            console.print("Nothing runs them on a schedule now: `mlops up` or the console does.")

    out.emit({"jobs": [job.to_dict() for job in jobs]}, render)
    return 0


def run_jobs_run(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "jobs run") as engine:
        run = engine.scheduler.run(args.job)
    out.emit(run.to_dict(), lambda console: console.print(_said(run), markup=False))
    return 0 if run.status == "ok" else 1


def run_jobs_pause(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "jobs pause") as engine:
        job = engine.scheduler.pause(args.job)
    out.emit(job.to_dict(), lambda console: console.print(f"Job {job.name} paused"))
    return 0


def run_jobs_resume(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "jobs resume") as engine:
        job = engine.scheduler.resume(args.job)
    out.emit(job.to_dict(), lambda console: console.print(f"Job {job.name} resumed ({job.schedule})"))
    return 0


def run_jobs_history(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "jobs history") as engine:
        runs = engine.scheduler.history(args.job, args.limit)
    out.emit(
        {"runs": [run.to_dict() for run in runs]},
        lambda console: table(
            console,
            ["id", "job", "trigger", "started", "took", "status", "found"],
            [
                [
                    str(run.id),
                    run.job,
                    run.trigger,
                    run.started_at,
                    "" if run.seconds is None else f"{run.seconds:.2f} s",
                    run.status,
                    run.error or run.summary or "",
                ]
                for run in runs
            ],
            empty="no runs yet",
        ),
    )
    return 0


def _said(run: JobRun) -> str:
    took = "" if run.seconds is None else f" in {run.seconds:.2f} s"
    return f"{run.job}: {run.status}{took}: {run.error or run.summary or ''}"


def run_alerts_list(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "alerts list") as engine:
        alerts = engine.alerts.all(args.all, args.limit)
    out.emit(
        {"alerts": [alert.to_dict() for alert in alerts]},
        lambda console: table(
            console,
            ["id", "raised", "severity", "source", "message", "repeats", "status"],
            [
                [str(a.id), a.raised_at, a.severity, a.source, a.message, str(a.repeats), a.status]
                for a in alerts
            ],
            empty="no open alerts" if not args.all else "no alerts yet",
        ),
    )
    return 0


def run_alerts_ack(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "alerts ack") as engine:
        alert = engine.alerts.acknowledge(args.alert_id)
    out.emit(
        alert.to_dict(),
        lambda console: console.print(
            f"Alert {alert.id} acknowledged ({alert.source}: {alert.message})", markup=False
        ),
    )
    return 0


def _split(item: str, option: str) -> tuple[str, str]:
    """``COLUMN=VALUE``, or a bare ``VALUE`` for every column (kept under ``"*"``)."""
    column, equals, value = item.rpartition("=")
    if equals and not column.strip():
        raise InvalidInput(f"{option} {item}: expected COLUMN=VALUE or VALUE")
    return (column.strip() if equals else "*"), value.strip()


def _methods(items: list[str]) -> dict[str, str]:
    return dict(_split(item, "--method") for item in items)


def _thresholds(items: list[str]) -> dict[str, float]:
    found = {}
    for item in items:
        key, text = _split(item, "--threshold")
        try:
            value = float(text)
        except ValueError:
            raise InvalidInput(f"--threshold {item}: expected [COLUMN=]NUMBER") from None
        if not math.isfinite(value):
            raise InvalidInput(f"--threshold {item}: expected a finite number")
        found[key] = value
    return found
