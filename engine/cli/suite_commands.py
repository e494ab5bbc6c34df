"""``mlops suite ...`` (add, list, show, infer) and the validation verbs of ``mlops data``."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from engine.cli.common import client_path, opened, styled, table
from engine.cli.output import Output

if TYPE_CHECKING:
    from rich.console import Console

    from engine.types.data import ValidationReport


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    suite = commands.add_parser(
        "suite", parents=[common], help="validation suites (Great Expectations 1.x JSON)"
    )
    verbs = suite.add_subparsers(title="suite commands", metavar="VERB", required=True)
    add = verbs.add_parser("add", parents=[common], help="store a GX suite from a JSON file")
    add.add_argument("file", metavar="FILE.json", type=client_path)
    add.add_argument("--name", help="store under this name (default: the suite's own name)")
    add.set_defaults(handler=run_suite_add)
    verbs.add_parser("list", parents=[common], help="stored suites").set_defaults(handler=run_suite_list)
    show = verbs.add_parser("show", parents=[common], help="a suite's expectations")
    show.add_argument("name")
    show.set_defaults(handler=run_suite_show)
    infer = verbs.add_parser("infer", parents=[common], help="propose a suite from a dataset version's data")
    infer.add_argument("ref", metavar="NAME[@vN]")
    infer.add_argument("--name", help="the suite's name (default: NAME_inferred)")
    infer.add_argument("--save", action="store_true", help="store the proposal in the workspace")
    infer.set_defaults(handler=run_suite_infer)


def register_data_verbs(
    verbs: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    validate = verbs.add_parser(
        "validate", parents=[common], help="validate a version against a suite (exit 1 if any fails)"
    )
    validate.add_argument("ref", metavar="NAME[@vN]")
    validate.add_argument("--suite", required=True)
    validate.set_defaults(handler=run_validate)
    require = verbs.add_parser(
        "require", parents=[common], help="validate every new version against a suite on ingest"
    )
    require.add_argument("name", metavar="NAME")
    require.add_argument("--suite", required=True)
    require.set_defaults(handler=run_require)


def run_suite_add(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "suite add") as engine:
        stored = engine.suites.add(args.file, args.name)
    out.emit(
        stored.to_dict(),
        lambda console: console.print(
            f"Stored suite [bold]{stored.name}[/] ({len(stored.suite.expectations)} expectations)"
        ),
    )
    return 0


def run_suite_list(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "suite list") as engine:
        suites = engine.suites.all()
    document = {"suites": [{k: v for k, v in s.to_dict().items() if k != "suite"} for s in suites]}
    rows = [[s.name, str(len(s.suite.expectations)), s.updated_at.strftime("%Y-%m-%d %H:%M")] for s in suites]
    out.emit(
        document,
        lambda console: table(
            console,
            ["suite", "expectations", "updated"],
            rows,
            empty="no suites yet; add one with `mlops suite add FILE.json`",
        ),
    )
    return 0


def run_suite_show(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "suite show") as engine:
        stored = engine.suites.get(args.name)
    rows = [[str(e.index + 1), e.type, json.dumps(dict(e.kwargs))] for e in stored.suite.expectations]
    out.emit(stored.to_dict(), lambda console: table(console, ["#", "expectation", "arguments"], rows))
    return 0


def run_suite_infer(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "suite infer") as engine:
        version = engine.datasets.resolve(args.ref)
        name = args.name or f"{version.name}_inferred"
        document = engine.quality.infer(version.ref, name, save=args.save)

    def render(console: Console) -> None:
        console.print_json(json.dumps(document, default=str))
        if args.save:
            console.print(f"Stored as suite [bold]{name}[/]")

    out.emit(document, render)
    return 0


def run_validate(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "data validate") as engine:
        version = engine.datasets.resolve(args.ref)
        report = engine.quality.validate(version.ref, args.suite)
    out.emit(
        {"ref": version.ref, **report.to_dict()}, lambda console: render_report(console, version.ref, report)
    )
    return 0 if report.success else 1


def run_require(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "data require") as engine:
        engine.quality.require(args.name, args.suite)
    out.emit(
        {"dataset": args.name, "required_suite": args.suite},
        lambda console: console.print(
            f"New versions of [bold]{args.name}[/] must now pass suite [bold]{args.suite}[/]; "
            "failing ones are quarantined"
        ),
    )
    return 0


def render_report(console: Console, ref: str, report: ValidationReport) -> None:
    verdict = "[green]passed[/]" if report.success else "[red]failed[/]"
    console.print(f"{ref} against suite [bold]{report.suite_name}[/]: {verdict}")
    rows = []
    for result in report.results:
        mark = styled("[green]✓[/]" if result.success else "[red]✗[/]")
        unexpected = (
            ""
            if result.unexpected_count is None
            else f"{result.unexpected_count:,} ({result.unexpected_percent or 0:.2f}%)"
        )
        examples = ", ".join(map(str, result.partial_unexpected[:3]))
        rows.append([mark, result.type, result.column or "", unexpected, examples])
    table(console, ["", "expectation", "column", "unexpected", "examples"], rows)
