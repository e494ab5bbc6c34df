"""``mlops features ...``: apply, list, historical, materialize, online."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.cli.common import client_path, client_path_or_name, opened, table
from engine.cli.output import Output
from engine.errors import InvalidInput
from engine.formatting import cell, duration
from engine.types.features import FeatureView

if TYPE_CHECKING:
    from rich.console import Console


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    features = commands.add_parser("features", parents=[common], help="the feature store (Feast-style)")
    verbs = features.add_subparsers(title="features commands", metavar="VERB", required=True)
    apply = verbs.add_parser("apply", parents=[common], help="make the registry equal to a definitions file")
    apply.add_argument("file", metavar="FILE.toml", type=client_path)
    apply.set_defaults(handler=run_apply)
    verbs.add_parser(
        "list", parents=[common], help="entities' feature views, TTLs and online freshness"
    ).set_defaults(handler=run_list)
    historical = verbs.add_parser(
        "historical", parents=[common], help="point-in-time correct training features"
    )
    historical.add_argument(
        "--entities",
        required=True,
        type=client_path_or_name,
        help="entity rows: a dataset NAME[@vN] or a .csv/.parquet file",
    )
    historical.add_argument("--features", required=True, help="view:feature,view:feature,...")
    historical.add_argument(
        "--out", required=True, type=client_path, help="where to write the result (.parquet or .csv)"
    )
    historical.set_defaults(handler=run_historical)
    materialize = verbs.add_parser(
        "materialize", parents=[common], help="write the latest values to the online store"
    )
    materialize.add_argument("--end", help="materialize values up to this time (ISO 8601; default now)")
    materialize.set_defaults(handler=run_materialize)
    online = verbs.add_parser("online", parents=[common], help="one entity's online features")
    online.add_argument(
        "--entity", action="append", required=True, help="join key and value, e.g. customer_id=42"
    )
    online.add_argument("--features", required=True, help="view:feature,view:feature,...")
    online.add_argument("--at", help="judge TTLs as of this time (ISO 8601; default now)")
    online.set_defaults(handler=run_online)


def run_apply(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "features apply") as engine:
        result = engine.features.apply(args.file)
    document = result.to_dict()

    def render(console: Console) -> None:
        for label, items in document.items():
            if items:
                console.print(f"{label}: {', '.join(items)}", markup=False)

    out.emit(document, render)
    return 0


def run_list(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "features list") as engine:
        statuses = engine.features.views()
    views: list[dict[str, Any]] = []
    rows: list[list[str]] = []
    for status in statuses:
        view = status.view
        stored = isinstance(view, FeatureView)
        ttl = view.ttl if isinstance(view, FeatureView) else None
        until = status.materialized_until.isoformat() if status.materialized_until else None
        features = [feature.name for feature in view.features]
        views.append(
            {
                "name": view.name,
                "kind": "feature_view" if stored else "on_demand_view",
                "features": features,
                "source": view.source if isinstance(view, FeatureView) else None,
                "ttl_seconds": ttl.total_seconds() if ttl is not None else None,
                "online": view.online if isinstance(view, FeatureView) else False,
                "materialized_until": until,
                "online_rows": status.online_rows,
            }
        )
        rows.append(
            [
                view.name,
                "feature view" if stored else "on demand",
                view.source if isinstance(view, FeatureView) else "",
                duration(ttl),
                "yes" if isinstance(view, FeatureView) and view.online else "no",
                cell(until),
                ", ".join(features),
            ]
        )
    headers = ["view", "kind", "source", "ttl", "online", "materialized until", "features"]
    out.emit(
        {"views": views},
        lambda console: table(
            console, headers, rows, empty="no feature views; run `mlops features apply FILE`"
        ),
    )
    return 0


def run_historical(args: argparse.Namespace, out: Output) -> int:
    with opened(args, "features historical") as engine:
        written = engine.features.export_historical(args.entities, _feature_list(args.features), args.out)
    out.emit(
        asdict(written),
        lambda console: console.print(
            f"Wrote {written.rows:,} rows x {len(written.columns)} columns to {written.path}", markup=False
        ),
    )
    return 0


def run_materialize(args: argparse.Namespace, out: Output) -> int:
    end = _timestamp(args.end, "--end") if args.end else None
    with opened(args, "features materialize") as engine:
        done = engine.features.materialize(end)
    document = {
        "views": [
            {
                "view": m.view,
                "source": m.relation,
                "materialized_until": m.materialized_until.isoformat(),
                "rows_written": m.rows_written,
                "incremental": m.incremental,
            }
            for m in done
        ]
    }
    rows = [
        [
            m.view,
            m.relation,
            m.materialized_until.isoformat(sep=" "),
            f"{m.rows_written:,}",
            "incremental" if m.incremental else "full",
        ]
        for m in done
    ]
    out.emit(
        document,
        lambda console: table(
            console,
            ["view", "source", "until", "rows written", "kind"],
            rows,
            empty="no online feature views to materialize",
        ),
    )
    return 0


def run_online(args: argparse.Namespace, out: Output) -> int:
    at = _timestamp(args.at, "--at") if args.at else None
    with opened(args, "features online") as engine:
        entity = engine.features.parse_entity(args.entity)
        found = engine.features.online(entity, _feature_list(args.features), at)
    document = {"entity": entity, **found.to_dict()}
    rows = [
        [name, cell(value), found.statuses[name].replace("_", " ")] for name, value in found.values.items()
    ]
    out.emit(document, lambda console: table(console, ["feature", "value", "status"], rows))
    return 0


def _feature_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _timestamp(text: str, option: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{option} {text!r}: expected an ISO 8601 time such as 2026-07-01T00:00:00"
        ) from None
