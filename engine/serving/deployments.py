"""``engine.deployments``: the endpoints the inference server answers on, and what it loads.

A deployment names registry references, not versions: ``churn@champion`` follows the alias, so
a promotion or a rollback re-points it without touching the deployment. ``plan()`` resolves
every reference to its version and ONNX file at one revision; the serving processes load a
new plan when the revision moves or a resolved version changes (serving/worker.py). A version
that has no ONNX file yet is exported when it is deployed, so the plan never waits on one.
"""

from __future__ import annotations

import json
from typing import Any

from engine.db import Database
from engine.errors import InvalidInput
from engine.events import EventLog
from engine.identifiers import check_name
from engine.registry.registry import Registry
from engine.types.serving import Deployment, ServedEndpoint, ServedVariant, ServingPlan, Variant

SINGLE = "single"
PRIMARY = "primary"
CANARY = "canary"  # the strategy, and the role of the variant it tries


class Deployments:
    def __init__(self, db: Database, events: EventLog, registry: Registry) -> None:
        self._db = db
        self._events = events
        self._registry = registry

    def deploy(
        self, endpoint: str, model: str, canary: str | None = None, percent: float | None = None
    ) -> Deployment:
        """Serve ``model`` (``NAME@ALIAS`` or ``NAME@vN``) on ``endpoint``, replacing what the
        endpoint served before; with ``canary`` (a reference too) and ``percent``, that share of
        requests goes to the canary. Each version named must exist and convert to ONNX, and a
        canary must take the primary's features."""
        check_name(endpoint, "endpoint name")
        if (canary is None) != (percent is None):
            raise InvalidInput("--canary and --percent go together: --canary NAME@ALIAS --percent 10")
        if percent is not None and not 0 < percent < 100:
            raise InvalidInput(f"--percent {percent:g}: expected more than 0 and less than 100")
        primary = self._registry.resolve(model)
        primary_file = self._registry.onnx_file(primary.name, primary.version)
        variants = [Variant(PRIMARY, model)]
        settings: dict[str, Any] = {}
        strategy = SINGLE
        described = f"{model} (v{primary.version})"
        if canary is not None and percent is not None:
            tried = self._registry.resolve(canary)
            _check_same_features(
                model, primary_file, canary, self._registry.onnx_file(tried.name, tried.version)
            )
            variants.append(Variant(CANARY, canary))
            strategy, settings = CANARY, {"percent": percent}
            described += f", {percent:g}% to {canary} (v{tried.version})"
        with self._db.transaction() as cursor:
            cursor.execute(
                "INSERT INTO deployments (endpoint, strategy, variants_json, settings_json, revision)"
                " VALUES (?, ?, ?, ?, nextval('deployment_revisions'))"
                " ON CONFLICT (endpoint) DO UPDATE SET strategy = excluded.strategy,"
                " variants_json = excluded.variants_json, settings_json = excluded.settings_json,"
                " revision = excluded.revision, updated_at = now()",
                [endpoint, strategy, json.dumps([v.__dict__ for v in variants]), json.dumps(settings)],
            )
        self._events.record("serving", endpoint, f"deployed {described}")
        return self.get(endpoint)

    def all(self) -> list[Deployment]:
        with self._db.cursor() as cursor:
            rows = cursor.execute(f"{_SELECT} ORDER BY endpoint").fetchall()
        return [_deployment(row) for row in rows]

    def get(self, endpoint: str) -> Deployment:
        with self._db.cursor() as cursor:
            row = cursor.execute(f"{_SELECT} WHERE endpoint = ?", [endpoint]).fetchone()
        if row is None:
            known = ", ".join(deployment.endpoint for deployment in self.all()) or "none yet"
            raise InvalidInput(f"no deployment named {endpoint!r}; deployments: {known}")
        return _deployment(row)

    def remove(self, endpoint: str) -> Deployment:
        removed = self.get(endpoint)
        with self._db.transaction() as cursor:
            cursor.execute("DELETE FROM deployments WHERE endpoint = ?", [endpoint])
            cursor.execute(
                "INSERT INTO deployment_removals (endpoint, revision)"
                " VALUES (?, nextval('deployment_revisions'))",
                [endpoint],
            )
        self._events.record("serving", endpoint, "removed")
        return removed

    def plan(self) -> ServingPlan:
        """Every deployment with its references resolved to versions and ONNX files, at the
        revision of the newest change."""
        with self._db.cursor() as cursor:
            revision = cursor.execute(
                "SELECT greatest(coalesce((SELECT max(revision) FROM deployments), 0),"
                " coalesce((SELECT max(revision) FROM deployment_removals), 0))"
            ).fetchone()
        endpoints = [
            ServedEndpoint(d.endpoint, d.strategy, [self._served(v) for v in d.variants], d.settings)
            for d in self.all()
        ]
        return ServingPlan(int(revision[0]) if revision else 0, endpoints)

    def _served(self, variant: Variant) -> ServedVariant:
        resolved = self._registry.resolve(variant.reference)
        path, sha256 = self._registry.onnx_file(resolved.name, resolved.version)
        return ServedVariant(variant.role, variant.reference, resolved.name, resolved.version, path, sha256)


def _check_same_features(
    primary: str, primary_file: tuple[str, str], canary: str, canary_file: tuple[str, str]
) -> None:
    """A canary must take what the primary takes: each request goes to one or the other."""
    from engine.serving.model import ServedModel

    def features(reference: str, file: tuple[str, str]) -> list[tuple[str, str]]:
        model = ServedModel.load(reference, 0, file[0], file[1])
        return [(feature.column, feature.kind) for feature in model.features]

    expected, found = features(primary, primary_file), features(canary, canary_file)
    if expected != found:
        raise InvalidInput(
            f"--canary {canary} takes other features than {primary}: "
            f"{', '.join(c for c, _ in found)} against {', '.join(c for c, _ in expected)}"
        )


_SELECT = (
    "SELECT endpoint, strategy, variants_json, settings_json, revision, created_at, updated_at"
    " FROM deployments"
)


def _deployment(row: tuple[Any, ...]) -> Deployment:
    endpoint, strategy, variants, settings, revision, created, updated = row
    return Deployment(
        endpoint,
        strategy,
        [Variant(**item) for item in json.loads(variants)],
        json.loads(settings),
        int(revision),
        created,
        updated,
    )
