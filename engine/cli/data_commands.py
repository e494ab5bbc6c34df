"""``mlops data ...``: ingest, list, show, head, sql, diff, export."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from engine.cli import suite_commands
from engine.cli.common import client_path, jsonable, opened, table
from engine.cli.output import Output
from engine.cli.progress import progress_bar
from engine.cli.streams import streams
from engine.formatting import cell, number, sparkline

if TYPE_CHECKING:
    from rich.console import Console


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    data = commands.add_parser("data", parents=[common], help="versioned datasets")
    verbs = data.add_subparsers(title="data commands", metavar="VERB", required=True)

    ingest = verbs.add_parser(
        "ingest", parents=[common], help="read a CSV or Parquet file into a new version"
    )
    ingest.add_argument("path", metavar="PATH", type=client_path)
    ingest.add_argument("--name", required=True, help="dataset name")
    ingest.add_argument("--schema", help="type overrides, e.g. age=INTEGER,zip=VARCHAR")
    ingest.add_argument(
        "--null-token",
        action="append",
        dest="null_tokens",
        metavar="TOKEN",
        help="read TOKEN in a CSV as a missing value (repeatable); replaces the default, pandas' list "
        "(NA, N/A, NaN, null, NULL, None, empty field, ...); --null-token '' keeps only empty fields",
    )
    ingest.set_defaults(handler=run_ingest)

    verbs.add_parser("list", parents=[common], help="datasets and their latest versions").set_defaults(
        handler=run_list
    )

    show = verbs.add_parser("show", parents=[common], help="schema and column profile of a version")
    show.add_argument("ref", metavar="NAME[@vN]")
    show.set_defaults(handler=run_show)

    head = verbs.add_parser("head", parents=[common], help="a page of a version's rows")
    head.add_argument("ref", metavar="NAME[@vN]")
    head.add_argument("--offset", type=int, default=0)
    head.add_argument("--limit", type=int, default=20)
    head.set_defaults(handler=run_head)

    sql = verbs.add_parser("sql", parents=[common], help="read-only SQL, e.g. 'SELECT * FROM \"churn@v1\"'")
    sql.add_argument("query", metavar="SQL")
    sql.add_argument("--limit", type=int, default=1000, help="rows to print at most (default 1000)")
    sql.set_defaults(handler=run_sql)

    diff = verbs.add_parser("diff", parents=[common], help="schema, row count and profile changes")
    diff.add_argument("before", metavar="NAME@vA")
    diff.add_argument("after", metavar="NAME@vB")
    diff.set_defaults(handler=run_diff)

    export = verbs.add_parser("export", parents=[common], help="write a version to .parquet or .csv")
    export.add_argument("ref", metavar="NAME[@vN]")
    export.add_argument("destination", metavar="PATH", type=client_path)
    export.set_defaults(handler=run_export)

    suite_commands.register_data_verbs(verbs, common)


def run_ingest(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "data ingest") as engine, progress_bar(out) as report:
        result = engine.datasets.ingest(
            args.path, args.name, args.schema, progress=report, null_tokens=args.null_tokens
        )
    version = result.version
    validation = result.validation
    document = result.to_dict()

    def render(console: Console) -> None:
        if result.created:
            console.print(
                f"Created [bold]{version.ref}[/]: {version.row_count:,} rows x "
                f"{version.column_count} columns, content hash {version.content_hash[:12]}"
            )
        else:
            console.print(f"Identical content is already [bold]{version.ref}[/]; no new version created")
        if result.nulls_from_tokens:
            console.print("Missing-value tokens read as null (--null-token changes which):")
            for note in result.nulls_from_tokens:
                console.print(f"  {note.text}", markup=False, highlight=False)
        if validation is not None:
            suite_commands.render_report(console, version.ref, validation)
            if not validation.success:
                console.print(f"[bold red]{version.ref} is quarantined[/]: training will refuse it")

    out.emit(document, render)
    return 0


def run_list(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "data list") as engine:
        summaries = engine.datasets.summaries()
    document = {"datasets": [summary.to_dict() for summary in summaries]}

    def render(console: Console) -> None:
        rows = [
            [
                s.name,
                str(s.versions),
                s.latest.ref,
                f"{s.latest.row_count:,}",
                str(s.latest.column_count),
                s.latest.status,
                s.latest.created_at.strftime("%Y-%m-%d %H:%M"),
            ]
            for s in summaries
        ]
        table(
            console,
            ["dataset", "versions", "latest", "rows", "columns", "status", "created"],
            rows,
            empty="no datasets yet; add one with `mlops data ingest PATH --name NAME`",
        )

    out.emit(document, render)
    return 0


def run_show(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "data show") as engine:
        version = engine.datasets.resolve(args.ref)
        profiles = engine.datasets.profile(version.ref)
    document = {**version.to_dict(), "profile": [p.to_dict() for p in profiles]}

    def render(console: Console) -> None:
        from rich.markup import escape

        console.print(
            f"[bold]{version.ref}[/]  {version.row_count:,} rows x {version.column_count} columns  "
            f"status {version.status}  hash {version.content_hash[:12]}  from {escape(version.source_path)}"
        )
        rows = []
        for p in profiles:
            summary = (
                f"mean {number(p.mean)} std {number(p.std)} p50 {number(p.quantiles.get('p50'))}"
                if p.mean is not None
                else ", ".join(f"{value} ({count})" for value, count in p.top_values[:3])
            )
            rows.append(
                [
                    p.name,
                    p.type,
                    f"{p.null_count:,} ({p.null_share:.1%})",
                    f"~{p.approx_distinct:,}",
                    number(p.min),
                    number(p.max),
                    summary,
                    sparkline([count for _, _, count in p.histogram]),
                ]
            )
        table(console, ["column", "type", "nulls", "distinct", "min", "max", "summary", "histogram"], rows)

    out.emit(document, render)
    return 0


def run_head(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "data head") as engine:
        version = engine.datasets.resolve(args.ref)
        columns, rows = engine.datasets.head(version.ref, args.offset, args.limit)
    _emit_rows(out, {"ref": version.ref, "offset": args.offset}, columns, rows)
    return 0


def run_sql(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "data sql") as engine:
        result = engine.datasets.query(args.query, args.limit)
    _emit_rows(out, {"truncated": result.truncated}, result.columns, result.rows)
    if result.truncated and not out.as_json:
        streams().stderr.write(f"(showing the first {args.limit} rows; pass --limit for more)\n")
    return 0


def run_diff(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "data diff") as engine:
        diff = engine.datasets.diff(args.before, args.after)
    document = diff.to_dict()

    def render(console: Console) -> None:
        same = " (identical content)" if diff.same_content else ""
        console.print(f"[bold]{diff.before}[/] -> [bold]{diff.after}[/]{same}")
        change = diff.row_count_after - diff.row_count_before
        console.print(f"rows: {diff.row_count_before:,} -> {diff.row_count_after:,} ({change:+,})")
        for name, kind in diff.added_columns:
            console.print(f"+ column {name} {kind}", style="green", markup=False)
        for name, kind in diff.removed_columns:
            console.print(f"- column {name} {kind}", style="red", markup=False)
        for name, before, after in diff.retyped_columns:
            console.print(f"~ column {name}: {before} -> {after}", style="yellow", markup=False)
        rows = [
            [
                d.column,
                d.statistic,
                number(d.before),
                number(d.after),
                "" if d.change is None else number(d.change, signed=True),
            ]
            for d in diff.column_deltas
        ]
        table(console, ["column", "statistic", "before", "after", "change"], rows, empty="no profile changes")

    out.emit(document, render)
    return 0


def run_export(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "data export") as engine:
        version = engine.datasets.resolve(args.ref)
        target = engine.datasets.export(version.ref, args.destination)
    document = {"ref": version.ref, "path": str(target), "rows": version.row_count}
    out.emit(
        document,
        lambda console: console.print(
            f"Wrote {version.row_count:,} rows of {version.ref} to {target}", markup=False
        ),
    )
    return 0


def _emit_rows(out: Output, extra: dict[str, Any], columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    document = {**extra, "columns": columns, "rows": [[jsonable(v) for v in row] for row in rows]}
    out.emit(
        document,
        lambda console: table(console, columns, [[cell(v) for v in row] for row in rows], overflow="records"),
    )
