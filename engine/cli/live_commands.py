"""The inference server's live side: ``mlops server start|stop|status`` (beside ``mlops up`` or
the console), ``mlops traffic`` (replay a dataset), ``mlops labels ingest`` (late labels) and
``mlops predictions`` (the newest rows of the prediction log)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from engine.cli.common import client_path, hosted_engine, opened, table
from engine.cli.output import Output
from engine.cli.progress import progress_bar
from engine.errors import InvalidInput

if TYPE_CHECKING:
    from rich.console import Console

    from engine.types.serving import ServerState


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    server = commands.add_parser(
        "server", parents=[common], help="start or stop the inference server of `mlops up` or the console"
    )
    verbs = server.add_subparsers(title="server commands", metavar="VERB", required=True)
    start = verbs.add_parser("start", parents=[common], help="serve every deployment over HTTP")
    start.add_argument("--host", help="the address to listen on (default: [serving] host, 127.0.0.1)")
    start.add_argument("--port", type=int, help="the port (default: [serving] port, 8080)")
    start.add_argument("--workers", type=int, help="serving processes (default: [serving] workers)")
    start.set_defaults(handler=run_server_start)
    verbs.add_parser("stop", parents=[common], help="stop serving").set_defaults(handler=run_server_stop)
    verbs.add_parser("status", parents=[common], help="where it serves").set_defaults(
        handler=run_server_status
    )

    traffic = commands.add_parser(
        "traffic", parents=[common], help="replay a dataset's rows as prediction requests"
    )
    traffic.add_argument("--endpoint", required=True, help="the deployment to send them to")
    traffic.add_argument("--dataset", required=True, metavar="NAME@vN", help="the rows to send")
    traffic.add_argument("--rate", type=float, default=50.0, help="requests per second (default 50)")
    traffic.add_argument("--duration", type=float, help="seconds at most (default: until the rows run out)")
    traffic.add_argument(
        "--entity", help="the column sent as X-Entity (default: the feature definitions' one entity key)"
    )
    traffic.add_argument(
        "--time",
        dest="time_column",
        help="the column sent as X-Event-Time (default: the one timestamp column)",
    )
    traffic.set_defaults(handler=run_traffic)

    labels = commands.add_parser("labels", parents=[common], help="late labels for logged predictions")
    label_verbs = labels.add_subparsers(title="labels commands", metavar="VERB", required=True)
    ingest = label_verbs.add_parser(
        "ingest", parents=[common], help="join a file of labels to the predictions they are for"
    )
    ingest.add_argument(
        "path", metavar="FILE", help="CSV or Parquet: request_id, or an entity key and a time"
    )
    ingest.add_argument("--label", help="the label column (default: the one column left)")
    ingest.add_argument("--key", help="the entity key column (default: the one the log knows)")
    ingest.add_argument(
        "--time", help="when each labelled event happened (default: the one timestamp column)"
    )
    ingest.set_defaults(handler=run_labels_ingest)

    predictions = commands.add_parser(
        "predictions", parents=[common], help="the newest rows of the prediction log"
    )
    predictions.add_argument("--endpoint", help="one endpoint's (default: all)")
    predictions.add_argument("--limit", type=int, default=20, help="how many rows (default 20)")
    predictions.set_defaults(handler=run_predictions)


def run_server_start(args: argparse.Namespace, out: Output) -> int:
    if hosted_engine.get() is None:  # this command would own the workspace, and stop serving as it ends
        raise InvalidInput(
            "no long-lived owner runs this workspace: start `mlops up` (or the console) first, "
            "or serve in the foreground with `mlops serve`"
        )
    with opened(args, "server start") as engine:
        state = engine.server.start(args.host, args.port, args.workers)
    out.emit(state.to_dict(), lambda console: _print_state(console, state))
    return 0


def run_server_stop(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "server stop") as engine:
        state = engine.server.stop()
    out.emit(state.to_dict(), lambda console: console.print("The inference server stopped"))
    return 0


def run_server_status(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "server status") as engine:
        state = engine.server.state()
    out.emit(state.to_dict(), lambda console: _print_state(console, state))
    return 0


def _print_state(console: Console, state: ServerState) -> None:
    if state.url is None:
        console.print("The inference server is not running; `mlops server start` starts it")
        return
    pids = ", ".join(str(pid) for pid in state.pids)
    console.print(
        f"Serving at [bold]{state.url}[/] since {state.started_at} ({state.workers} worker(s): {pids})"
    )


def run_traffic(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "traffic") as engine, progress_bar(out) as progress:
        report = engine.traffic.replay(
            args.endpoint,
            args.dataset,
            args.rate,
            args.duration,
            entity=args.entity,
            time_column=args.time_column,
            progress=progress,
        )

    def render(console: Console) -> None:
        statuses = ", ".join(f"{count:,} answered {status}" for status, count in report.by_status.items())
        console.print(
            f"Sent {report.sent:,} rows of {report.dataset} to [bold]{report.endpoint}[/] in "
            f"{report.seconds:.1f} s ({report.rate:.0f} req/s): {statuses or 'no answers'}"
        )
        if report.failed:
            console.print(f"{report.failed:,} got no answer; the first: {report.first_error}")

    out.emit(report.to_dict(), render)
    return 0 if not report.failed else 1


def run_labels_ingest(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "labels ingest") as engine:
        result = engine.labels.ingest(client_path(args.path), args.label, args.key, args.time)
    replaced = f" ({result.replaced:,} replacing an earlier label)" if result.replaced else ""
    out.emit(
        result.to_dict(),
        lambda console: console.print(
            f"{result.matched:,} of {result.rows:,} labels joined to {result.predictions:,} predictions by "
            f"{result.joined_by}{replaced}; "
            f"{result.unmatched:,} found no logged prediction"
        ),
    )
    return 0


def run_predictions(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "predictions") as engine:
        rows = engine.predictions.recent(args.endpoint, args.limit)
    out.emit(
        {"predictions": [row.to_dict() for row in rows]},
        lambda console: table(
            console,
            ["time", "endpoint", "variant", "model", "request", "score", "label", "truth", "ms", "status"],
            [
                [
                    row.logged_at.strftime("%H:%M:%S.%f")[:-3],
                    row.endpoint,
                    row.variant or "",
                    f"{row.model} v{row.version}" if row.model else "",
                    row.request_id[:12] + ("" if row.row in (None, 0) else f"#{row.row}"),
                    "" if row.score is None else f"{row.score:.3f}",
                    row.label or row.error or "",
                    row.truth or "",
                    f"{row.latency_ms:.2f}",
                    str(row.status),
                ]
                for row in rows
            ],
            empty="no predictions logged yet",
        ),
    )
    return 0
