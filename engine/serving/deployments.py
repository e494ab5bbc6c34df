"""``engine.deployments``: the endpoints the inference server answers on, and what it loads.

A deployment names registry references, not versions: ``churn@champion`` follows the alias, so
a promotion or a rollback re-points it without touching the deployment. ``plan()`` resolves
every reference to its version and ONNX file at one revision; the serving processes load a
new plan when the revision moves or a resolved version changes (serving/worker.py). A version
that has no ONNX file yet is exported when it is deployed, so the plan never waits on one.

The strategies (how serving/routing.py routes them): single; canary (``percent`` of requests
to the canary); shadow (the shadow answers every row too, for the log only); bluegreen (blue
and green both loaded, ``live`` answers; ``switch`` moves all traffic in one revision); ab
(``split`` percent of the keys to ``b``, sticky by ``key``). Every variant of an endpoint takes
the primary's features, checked here: a request valid for one is valid for all.
"""

from __future__ import annotations

import json
import time
from typing import Any

from engine.db import Database
from engine.errors import InvalidInput
from engine.events import EventLog
from engine.identifiers import check_name
from engine.registry.registry import Registry
from engine.serving.comparison import Costs, agreement, compare
from engine.serving.routing import AB, BLUE, BLUEGREEN, CANARY, GREEN, PRIMARY, SHADOW, SINGLE, A, B
from engine.training.runs import Runs
from engine.types.serving import (
    Comparison,
    Deployment,
    ServedEndpoint,
    ServedVariant,
    ServingPlan,
    ShadowAgreement,
    Variant,
)

PLAN_MAX_AGE_SECONDS = 10.0
SERVED_SECONDS = 5.0
"""How stale a kept plan may get: an alias moved outside mlops is served within this."""


class Deployments:
    def __init__(self, db: Database, events: EventLog, registry: Registry, runs: Runs, costs: Costs) -> None:
        self._db = db
        self._events = events
        self._registry = registry
        self._runs = runs
        self._costs = costs
        self._kept_plan: tuple[tuple[Any, ...], float, ServingPlan] | None = None  # state, made at, plan
        self._serving: dict[int, int] = {}  # serving process pid -> the plan revision it serves

    def deploy(
        self,
        endpoint: str,
        model: str,
        *,
        canary: str | None = None,
        percent: float | None = None,
        shadow: str | None = None,
        staged: str | None = None,
        ab: str | None = None,
        split: float | None = None,
        key: str | None = None,
    ) -> Deployment:
        """Serve ``model`` (``NAME@ALIAS`` or ``NAME@vN``) on ``endpoint``, replacing what the
        endpoint served before, alone or with one second variant (a reference too): ``canary``
        with ``percent``; ``shadow``; ``staged`` (blue/green: ``model`` is blue and live,
        ``staged`` green until ``switch``); ``ab`` with ``split`` and ``key``. Each version
        named must exist and convert to ONNX, and the second must take the primary's features."""
        check_name(endpoint, "endpoint name")
        strategy, second, settings = _strategy(canary, percent, shadow, staged, ab, split, key)
        first_role = {BLUEGREEN: BLUE, AB: A}.get(strategy, PRIMARY)
        primary = self._registry.resolve(model)
        primary_file = self._registry.onnx_file(primary.name, primary.version)
        variants = [Variant(first_role, model)]
        described = f"{model} (v{primary.version})"
        if second is not None:
            role, reference = second
            tried = self._registry.resolve(reference)
            second_file = self._registry.onnx_file(tried.name, tried.version)
            _check_same_features(model, primary_file, reference, second_file, strategy)
            variants.append(Variant(role, reference))
            described += f", {_second_described(strategy, settings)} {reference} (v{tried.version})"
        self._store(endpoint, strategy, variants, settings)
        self._events.record("serving", endpoint, f"deployed {described}")
        return self.get(endpoint)

    def switch(self, endpoint: str) -> Deployment:
        """Move all of a blue/green endpoint's traffic to the staged colour, in one revision: both
        are loaded in every serving process already, so the next request meets the other one."""
        deployment = self.get(endpoint)
        if deployment.strategy != BLUEGREEN:
            raise InvalidInput(
                f"{endpoint} is a {deployment.strategy} deployment; switch moves a blue/green one "
                f"(`mlops deploy {endpoint} --model REF --staged REF`)"
            )
        live = GREEN if deployment.settings.get("live", BLUE) == BLUE else BLUE
        self._store(endpoint, BLUEGREEN, deployment.variants, {**deployment.settings, "live": live})
        reference = next(v.reference for v in deployment.variants if v.role == live)
        self._events.record("serving", endpoint, f"switched all traffic to {live} ({reference})")
        return self.get(endpoint)

    def compare(self, endpoint: str) -> Comparison:
        """The endpoint's variants on their logged traffic and late labels (comparison.py)."""
        self.get(endpoint)
        served = next(e for e in self.plan().endpoints if e.endpoint == endpoint)
        positive = {v.role: self._positive_class(v.model, v.version) for v in served.variants}
        return compare(self._db, served, positive, self._costs)

    def shadow_agreement(self, endpoint: str, seconds: float | None = None) -> ShadowAgreement | None:
        """The shadow's agreement with the primary on the endpoint's logged traffic (of the last
        ``seconds``): the console's live figure; None for an endpoint without a shadow."""
        self.get(endpoint)
        served = next(e for e in self.plan().endpoints if e.endpoint == endpoint)
        return agreement(self._db, served, seconds)

    def _positive_class(self, model: str, version: int) -> str | None:
        return self._runs.get(self._registry.version(model, version).run_id).positive_class

    def _store(self, endpoint: str, strategy: str, variants: list[Variant], settings: dict[str, Any]) -> None:
        with self._db.transaction() as cursor:
            cursor.execute(
                "INSERT INTO deployments (endpoint, strategy, variants_json, settings_json, revision)"
                " VALUES (?, ?, ?, ?, nextval('deployment_revisions'))"
                " ON CONFLICT (endpoint) DO UPDATE SET strategy = excluded.strategy,"
                " variants_json = excluded.variants_json, settings_json = excluded.settings_json,"
                " revision = excluded.revision, updated_at = now()",
                [endpoint, strategy, json.dumps([v.__dict__ for v in variants]), json.dumps(settings)],
            )

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

    def served(self, serving: tuple[int, int]) -> None:
        """A serving process (pid) says which plan revision it serves now."""
        pid, revision = serving
        self._serving[pid] = revision

    def wait_served(self, pids: list[int], seconds: float = SERVED_SECONDS) -> bool:
        """Wait until each serving process in ``pids`` serves the newest plan (a change reaches
        them within a second); False if one does not within ``seconds``."""
        revision = self.plan().revision
        deadline = time.monotonic() + seconds
        while any(self._serving.get(pid, -1) < revision for pid in pids):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)  # the processes ask for the plan every half second
        return True

    def plan(self, serving: tuple[int, int] | None = None) -> ServingPlan:
        """Every deployment with its references resolved to versions and ONNX files, at the
        revision of the newest change. A serving process asking says which revision it serves
        (``serving``: pid, revision), so the owner knows when a change is served everywhere.

        Every serving process asks for it twice a second, and resolving references through
        MLflow's store costs ~40 ms, so the plan is kept while nothing it depends on has
        changed here (deployments, alias moves, exports), and made afresh at least every
        ``PLAN_MAX_AGE_SECONDS`` for an alias moved outside mlops (a shared tracking server)."""
        with self._db.cursor() as cursor:
            state = cursor.execute(
                "SELECT greatest(coalesce((SELECT max(revision) FROM deployments), 0),"
                " coalesce((SELECT max(revision) FROM deployment_removals), 0)),"
                " (SELECT count(*) FROM alias_moves), (SELECT max(moved_at) FROM alias_moves),"
                " (SELECT count(*) FROM model_exports), (SELECT max(exported_at) FROM model_exports)"
            ).fetchone()
        assert state is not None
        if serving is not None:
            self.served(serving)
        kept = self._kept_plan
        if kept is not None and kept[0] == state and time.monotonic() - kept[1] < PLAN_MAX_AGE_SECONDS:
            return kept[2]
        endpoints = [
            ServedEndpoint(d.endpoint, d.strategy, [self._served(v) for v in d.variants], d.settings)
            for d in self.all()
        ]
        plan = ServingPlan(int(state[0]), endpoints)
        self._kept_plan = (state, time.monotonic(), plan)
        return plan

    def _served(self, variant: Variant) -> ServedVariant:
        resolved = self._registry.resolve(variant.reference)
        path, sha256 = self._registry.onnx_file(resolved.name, resolved.version)
        return ServedVariant(variant.role, variant.reference, resolved.name, resolved.version, path, sha256)


def _strategy(
    canary: str | None,
    percent: float | None,
    shadow: str | None,
    staged: str | None,
    ab: str | None,
    split: float | None,
    key: str | None,
) -> tuple[str, tuple[str, str] | None, dict[str, Any]]:
    """The strategy the options name, its second variant (role, reference) and its settings."""
    chosen = [
        name
        for name, value in (("--canary", canary), ("--shadow", shadow), ("--staged", staged), ("--ab", ab))
        if value
    ]
    if len(chosen) > 1:
        raise InvalidInput(
            f"{' and '.join(chosen)}: expected at most one of --canary, --shadow, --staged, --ab"
        )
    if (canary is None) != (percent is None):
        raise InvalidInput("--canary and --percent go together: --canary NAME@ALIAS --percent 10")
    if ab is None and (split is not None or key is not None):
        raise InvalidInput("--split and --key go with --ab: --ab NAME@vN --split 50 --key customer_id")
    if canary is not None and percent is not None:
        _check_share("--percent", percent)
        return CANARY, (CANARY, canary), {"percent": percent}
    if shadow is not None:
        return SHADOW, (SHADOW, shadow), {}
    if staged is not None:
        return BLUEGREEN, (GREEN, staged), {"live": BLUE}
    if ab is not None:
        if split is None or key is None or not key.strip():
            raise InvalidInput("--ab needs --split and --key: --ab NAME@vN --split 50 --key customer_id")
        _check_share("--split", split)
        return AB, (B, ab), {"split": split, "key": key.strip()}
    return SINGLE, None, {}


def _check_share(option: str, value: float) -> None:
    if not 0 < value < 100:
        raise InvalidInput(f"{option} {value:g}: expected more than 0 and less than 100")


def _second_described(strategy: str, settings: dict[str, Any]) -> str:
    return {
        CANARY: f"{settings.get('percent', 0):g}% to",
        SHADOW: "shadowed by",
        BLUEGREEN: "staged:",
        AB: f"{settings.get('split', 0):g}% of {settings.get('key')} keys to",
    }[strategy]


def _check_same_features(
    primary: str, primary_file: tuple[str, str], second: str, second_file: tuple[str, str], strategy: str
) -> None:
    """Refuse a second variant that takes other features than the primary: each request may
    go to either. Loads both graphs (the sha256 checked as serving would)."""
    from engine.serving.model import ServedModel

    def features(reference: str, file: tuple[str, str]) -> list[tuple[str, str]]:
        model = ServedModel.load(reference, 0, file[0], file[1])
        return [(feature.column, feature.kind) for feature in model.features]

    expected, found = features(primary, primary_file), features(second, second_file)
    if expected != found:
        option = {CANARY: "--canary", SHADOW: "--shadow", BLUEGREEN: "--staged", AB: "--ab"}[strategy]
        raise InvalidInput(
            f"{option} {second} takes other features than {primary}: "
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
