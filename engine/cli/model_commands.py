"""``mlops models ...``: the catalogue and the registry (register, promote behind gates,
history, rollback, export)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from engine.cli.common import client_path, opened, styled, table
from engine.cli.output import Output
from engine.cli.progress import progress_bar
from engine.cli.train_commands import run_catalogue
from engine.formatting import number
from engine.types.registry import CHAMPION, OnnxExportRecord, Verdict

if TYPE_CHECKING:
    from rich.console import Console


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    models = commands.add_parser("models", parents=[common], help="the model catalogue and the registry")
    verbs = models.add_subparsers(title="models commands", metavar="VERB", required=True)
    verbs.add_parser("catalogue", parents=[common], help="the models `mlops train` can fit").set_defaults(
        handler=run_catalogue
    )
    add = verbs.add_parser("register", parents=[common], help="register a run's model as a new version")
    add.add_argument("run", metavar="RUN")
    add.add_argument("--name", required=True, help="the registered model's name")
    add.set_defaults(handler=run_register)
    verbs.add_parser("list", parents=[common], help="registered models").set_defaults(handler=run_list)
    show = verbs.add_parser("show", parents=[common], help="a model's versions, aliases and ONNX files")
    show.add_argument("name", metavar="NAME")
    show.set_defaults(handler=run_show)
    promote = verbs.add_parser("promote", parents=[common], help="move an alias to a version, behind gates")
    promote.add_argument("name", metavar="NAME")
    promote.add_argument("version", metavar="VERSION", type=_version)
    promote.add_argument("--alias", default=CHAMPION)
    promote.add_argument("--force", action="store_true", help="override failed gates (needs --reason)")
    promote.add_argument("--reason", help="why; recorded in the alias history")
    promote.set_defaults(handler=run_promote)
    history = verbs.add_parser("history", parents=[common], help="every move of a model's aliases")
    history.add_argument("name", metavar="NAME")
    history.set_defaults(handler=run_history)
    rollback = verbs.add_parser("rollback", parents=[common], help="move an alias back one step")
    rollback.add_argument("name", metavar="NAME")
    rollback.add_argument("--alias", default=CHAMPION)
    rollback.add_argument("--reason")
    rollback.set_defaults(handler=run_rollback)
    export = verbs.add_parser("export", parents=[common], help="ONNX file or KServe manifest of a version")
    export.add_argument("reference", metavar="NAME@ALIAS|NAME@vN")
    export.add_argument("--format", choices=["onnx", "kserve"], default="onnx")
    export.add_argument("--storage-uri", help="where KServe finds the ONNX file (default: its local path)")
    export.add_argument("--output", type=client_path, help="write the manifest here instead of printing it")
    export.set_defaults(handler=run_export)


def _version(text: str) -> int:
    number_text = text.removeprefix("v")
    if not number_text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a version number; expected e.g. 3")
    return int(number_text)


def run_register(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "models register") as engine:
        version = engine.registry.register(args.run, args.name)
    out.emit(
        version.to_dict(),
        lambda console: console.print(
            f"Registered {version.model} version {version.version} "
            f"from run {version.run_name} ({version.dataset})",
            markup=False,
        ),
    )
    return 0


def run_list(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "models list") as engine:
        models = engine.registry.models()
    rows = [
        [
            model.name,
            str(len(model.versions)),
            ", ".join(f"@{alias} v{version}" for alias, version in sorted(model.aliases.items())),
            str(model.versions[0].version) if model.versions else "",
        ]
        for model in models
    ]
    out.emit(
        {"models": [model.to_dict() for model in models]},
        lambda console: table(
            console, ["model", "versions", "aliases", "latest"], rows, empty="no registered models yet"
        ),
    )
    return 0


def run_show(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "models show") as engine:
        model = engine.registry.model(args.name)
    rows = [
        [
            f"v{v.version}",
            " ".join(f"@{alias}" for alias in v.aliases),
            v.run_name,
            v.dataset,
            number(v.metrics.get("f1")),
            number(v.metrics.get("roc_auc")),
            (v.onnx_sha256 or "")[:16],
            _time(v.created_at),
        ]
        for v in model.versions
    ]
    headers = ["version", "aliases", "run", "data", "f1", "roc_auc", "onnx sha256", "registered"]
    out.emit(model.to_dict(), lambda console: table(console, headers, rows, empty="no versions"))
    return 0


def run_promote(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "models promote") as engine, progress_bar(out) as report:
        promotion = engine.registry.promote(
            args.name, args.version, args.alias, force=args.force, reason=args.reason, progress=report
        )

    def render(console: Console) -> None:
        render_verdicts(console, promotion.verdicts)
        target = f"{promotion.model}@{promotion.alias}"
        if not promotion.promoted:
            console.print(
                f"[red]Promotion refused:[/] {target} unchanged. Fix the failing gates, or "
                '--force --reason "..." to override (recorded).'
            )
            return
        if promotion.export:
            console.print(parity_line(promotion.export))
        forced = " (forced)" if promotion.move and promotion.move.action == "forced promote" else ""
        console.print(f"[green]{target} is now version {promotion.version}{forced}[/]")

    out.emit(promotion.to_dict(), render)
    return 0 if promotion.promoted else 1


def render_verdicts(console: Console, verdicts: list[Verdict]) -> None:
    rows = [
        [styled("[green]✓ pass[/]" if v.passed else "[red]✗ fail[/]"), v.check, v.detail] for v in verdicts
    ]
    table(console, ["gate", "check", "detail"], rows)


def parity_line(export: OnnxExportRecord) -> str:
    return (
        f"ONNX {export.sha256[:16]}…: parity max |Δp| {export.max_abs_difference:.2e} on "
        f"{export.rows_checked:,} held-out rows, labels identical"
    )


def run_history(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "models history") as engine:
        moves = engine.registry.moves(args.name)
    rows = [
        [
            move.moved_at.strftime("%Y-%m-%d %H:%M:%S"),
            f"@{move.alias}",
            f"v{move.from_version}" if move.from_version is not None else "-",
            f"v{move.to_version}",
            move.action,
            move.user,
            move.reason or "",
            f"{sum(v.passed for v in move.verdicts)}/{len(move.verdicts)} passed" if move.verdicts else "",
        ]
        for move in reversed(moves)
    ]
    headers = ["when", "alias", "from", "to", "action", "user", "reason", "gates"]
    out.emit(
        {"model": args.name, "moves": [move.to_dict() for move in moves]},
        lambda console: table(console, headers, rows, empty=f"no alias of {args.name} has moved yet"),
    )
    return 0


def run_rollback(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "models rollback") as engine:
        move = engine.registry.rollback(args.name, args.alias, args.reason)
    out.emit(
        move.to_dict(),
        lambda console: console.print(
            f"{move.model}@{move.alias} rolled back from v{move.from_version} to v{move.to_version}"
        ),
    )
    return 0


def run_export(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "models export") as engine:
        version = engine.registry.resolve(args.reference)
        if args.format == "onnx":
            export = engine.registry.export_onnx(version.name, version.version)
            out.emit(
                {"model": version.name, "version": version.version, **export.to_dict()},
                lambda console: console.print(
                    f"{version.name} v{version.version} → {export.path}\nsha256 {export.sha256}\n"
                    f"{parity_line(export)}",
                    markup=False,
                ),
            )
            return 0
        if args.output:
            path = engine.registry.write_kserve_manifest(
                version.name, version.version, args.output, args.storage_uri
            )
            manifest = path.read_text()
        else:
            manifest = engine.registry.kserve_manifest(version.name, version.version, args.storage_uri)
    out.emit(
        {"model": version.name, "version": version.version, "manifest": manifest, "path": args.output},
        lambda console: console.print(f"wrote {args.output}" if args.output else manifest, markup=False),
    )
    return 0


def _time(milliseconds: int) -> str:
    return datetime.fromtimestamp(milliseconds / 1000, UTC).strftime("%Y-%m-%d %H:%M") if milliseconds else ""
