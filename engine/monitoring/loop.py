"""``engine.loop``: the automatic retrain loop (MLOps maturity level 3), one turn at a time.

A turn starts from a trigger: the drift monitor finding dataset drift on an endpoint, the
accuracy monitor finding a realised or estimated metric below its floor, the weekly retrain
cron, or `mlops loop run`. It then:

1. checks the policy (``[loop]``): the trigger is one the loop answers, no turn of the endpoint
   has its canary out, the endpoint's last retrain is ``cooldown_hours`` old, fewer than
   ``max_retrains_per_day`` retrains in the last day (a manual turn skips these checks);
2. builds the newest data: the champion's training rows plus the labelled production rows,
   a new dataset version with its lineage (retrain_data.py); no new rows, no turn;
3. re-runs the champion's pipeline on it (the pipeline that registered it, its load step
   pointed at the new version; for a champion trained by `mlops train`, the same training as a
   pipeline: validate with the dataset's required suite, train, evaluate, the promotion gates
   and beating the champion, register); the pipeline's own validation and gates decide;
4. serves the challenger it registered as a canary at ``canary_percent``;
5. later (``advance``, the ``canary`` job), after ``canary_requests`` canary requests or
   ``canary_minutes``: compares the canary's live error rate with the champion's and, where
   labels exist, their accuracy (mlops deploy compare); promotes the challenger (through the
   promotion gates) and serves the champion alias alone, or rolls the canary back and alerts.

Every step is recorded with its evidence (``loop_runs``, ``loop_steps``; `mlops loop history`).
A failed retrain, a refusing gate or a bad canary never moves the champion: only a promotion
does, and only after the canary.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from engine.config import LoopConfig
from engine.data.quality import DataQuality
from engine.db import Database
from engine.errors import MlopsError
from engine.identifiers import check_limit
from engine.monitoring.alerts import Alerts
from engine.monitoring.retrain_data import RetrainData, RetrainDataBuilder
from engine.pipelines.definition import Pipeline, parse_pipeline
from engine.pipelines.runner import Pipelines
from engine.registry.registry import Registry
from engine.serving.deployments import Deployments
from engine.training.runs import Runs
from engine.types.monitoring import LoopRun, LoopStep
from engine.types.registry import CHAMPION
from engine.types.serving import Deployment

MANUAL = "manual"
WAITING = ("running", "canary")


class RetrainLoop:
    def __init__(
        self,
        db: Database,
        config: LoopConfig,
        margin: float,
        data: RetrainDataBuilder,
        quality: DataQuality,
        pipelines: Pipelines,
        runs: Runs,
        registry: Registry,
        deployments: Deployments,
        alerts: Alerts,
    ) -> None:
        self._db = db
        self._config = config
        self._margin = margin  # [gates] champion_margin: what a retrained champion must beat itself by
        self._data = data
        self._quality = quality
        self._pipelines = pipelines
        self._runs = runs
        self._registry = registry
        self._deployments = deployments
        self._alerts = alerts
        self._turning = threading.Lock()  # one turn at a time: a manual one and a triggered one

    def run(self, endpoint: str) -> LoopRun:
        """A turn of ``endpoint`` now (`mlops loop run`), whatever the triggers, cool-down and
        daily limit say (they keep the automatic loop from thrashing; a person decides here)."""
        return self._turn(endpoint, MANUAL, {"by": "mlops loop run"}, policy=False)

    def triggered(self, endpoint: str, trigger: str, evidence: dict[str, Any]) -> LoopRun | None:
        """A monitor's finding: a turn if the loop is on and answers ``trigger``."""
        if not self._config.enabled or trigger not in self._config.triggers:
            return None
        return self._turn(endpoint, trigger, evidence, policy=True)

    def scheduled(self) -> str:
        """The weekly retrain (the ``retrain`` job): a turn of every deployed endpoint."""
        if not self._config.enabled or "schedule" not in self._config.triggers:
            return "the loop does not retrain on a schedule ([loop] enabled, triggers)"
        turns = [self.triggered(d.endpoint, "schedule", {}) for d in self._deployments.all()]
        return "; ".join(f"{t.endpoint}: {t.outcome}" for t in turns if t is not None) or "no deployments"

    def advance(self) -> str:
        """Judge every canary that has had its requests or its time (the ``canary`` job)."""
        said = []
        for turn in self._turns("outcome = 'canary'", []):
            with self._turning:
                said.append(f"{turn.endpoint}: {self._judge(turn)}")
        return "; ".join(said) or "no canary out"

    def history(self, limit: int = 20, endpoint: str | None = None) -> list[LoopRun]:
        """The newest turns first, each with its steps."""
        return self._turns("? IS NULL OR endpoint = ?", [endpoint, endpoint], check_limit(limit))

    def _turns(self, where: str, parameters: list[Any], limit: int | None = None) -> list[LoopRun]:
        """The turns ``where`` holds, newest first, each with its steps."""
        with self._db.cursor() as cursor:
            runs = cursor.execute(
                "SELECT id, started_at, finished_at, trigger, endpoint, model, champion_version,"
                f" challenger_version, outcome, reason FROM loop_runs WHERE {where} ORDER BY id DESC"
                + ("" if limit is None else f" LIMIT {int(limit)}"),
                parameters,
            ).fetchall()
            steps = cursor.execute(
                "SELECT run_id, step, status, detail, evidence_json, happened_at FROM loop_steps"
                " WHERE run_id IN (SELECT unnest(?::BIGINT[])) ORDER BY happened_at, rowid",
                [[row[0] for row in runs]],
            ).fetchall()
        by_run: dict[int, list[LoopStep]] = {}
        for run_id, step, status, detail, evidence, happened in steps:
            by_run.setdefault(run_id, []).append(
                LoopStep(step, status, detail, json.loads(evidence or "{}"), _iso(happened))
            )
        return [
            LoopRun(
                id=row[0],
                started_at=_iso(row[1]),
                finished_at=_iso(row[2]) if row[2] else None,
                trigger=row[3],
                endpoint=row[4],
                model=row[5],
                champion_version=row[6],
                challenger_version=row[7],
                outcome=row[8],
                reason=row[9],
                steps=by_run.get(row[0], []),
            )
            for row in runs
        ]

    def base_of(self, version: str) -> str:
        """The version a loop-built dataset version was built from; any other is its own base."""
        with self._db.cursor() as cursor:
            found = cursor.execute(
                "SELECT json_extract_string(evidence_json, '$.base') FROM loop_steps"
                " WHERE step = 'data' AND json_extract_string(evidence_json, '$.version') = ?"
                " AND json_extract_string(evidence_json, '$.base') <> ? LIMIT 1",
                [version, version],
            ).fetchone()
        return str(found[0]) if found else version

    # ---- a turn

    def _turn(self, endpoint: str, trigger: str, evidence: dict[str, Any], policy: bool) -> LoopRun:
        with self._turning:
            deployment = self._deployments.get(endpoint)
            primary = deployment.variants[0]
            champion = self._registry.resolve(primary.reference)
            turn = self._start(trigger, endpoint, champion.name, champion.version)
            self._step(turn, "trigger", "ok", _trigger_said(trigger, evidence), evidence)
            try:
                self._through(turn, deployment, champion.name, champion.version, policy)
            except MlopsError as error:
                self._step(turn, "error", "failed", str(error), {})
                self._finish(turn, "failed", str(error))
                self._alert(
                    endpoint, "warning", f"loop turn {turn} failed: {error}; the champion stays", turn
                )
            return self._get(turn)

    def _through(self, turn: int, deployment: Deployment, model: str, champion: int, policy: bool) -> None:
        """The policy, the data, the retrain and the canary; the turn ends at the first that
        says no (``_finish``) or waits for its canary."""
        endpoint = deployment.endpoint
        blocked = self._blocked(turn, deployment) if policy else None
        if blocked is not None:
            self._step(turn, "policy", "skipped", blocked, {})
            self._finish(turn, "skipped", blocked)
            return
        if policy:
            self._step(turn, "policy", "ok", "within the cool-down and the daily limit", {})
        run = self._runs.get(self._registry.version(model, champion).run_id)
        if run.tags.get("mlops.feature_views", "[]") != "[]":
            said = "the champion reads feature views: re-run its pipeline by hand on the newest entities"
            self._step(turn, "data", "skipped", said, {})
            self._finish(turn, "skipped", said)
            return
        trained_on = f"{run.tags['mlops.dataset']}@v{run.tags['mlops.dataset_version']}"
        data = self._data.build(
            endpoint, trained_on, run.tags["mlops.target"], json.loads(run.tags["mlops.features"]), turn
        )
        if not data.production_rows:
            said = f"no labelled production rows of {endpoint} yet: nothing new to learn from"
            self._step(turn, "data", "skipped", said, data.evidence())
            self._finish(turn, "skipped", said)
            return
        self._step(turn, "data", "ok", _data_said(data), data.evidence())
        challenger = self._retrain(turn, endpoint, model, champion, run.run_id, data)
        if challenger is None:
            return
        canary = f"{model}@v{challenger}"
        self._deployments.deploy(
            endpoint, deployment.variants[0].reference, canary=canary, percent=self._config.canary_percent
        )
        with self._db.cursor() as cursor:
            cursor.execute("UPDATE loop_runs SET challenger_version = ? WHERE id = ?", [challenger, turn])
        self._step(
            turn,
            "canary",
            "waiting",
            f"{canary} serves {self._config.canary_percent:g}% of {endpoint}; judged after "
            f"{self._config.canary_requests} of its requests or {self._config.canary_minutes:g} minutes",
            {"canary": canary, "percent": self._config.canary_percent, "since": _now().isoformat()},
        )
        self._finish(turn, "canary", None, finished=False)

    def _retrain(
        self, turn: int, endpoint: str, model: str, champion: int, run_id: str, data: RetrainData
    ) -> int | None:
        """The champion's pipeline on the new data; the version it registered, or None (the
        turn is finished as failed, the champion untouched)."""
        pipeline = self._pipeline(model, run_id, data.version)
        record = self._pipelines.run_pipeline(pipeline)
        registered = next(
            (s.output for s in record.steps if s.kind == "register" and s.status in ("succeeded", "cached")),
            None,
        )
        gates = [
            {"step": s.name, "verdicts": [v.to_dict() for v in s.verdicts]}
            for s in record.steps
            if s.verdicts
        ]
        evidence = {
            "pipeline_run": record.id,
            "pipeline": pipeline.name,
            "status": record.status,
            "gates": gates,
        }
        if record.status != "succeeded" or registered is None:
            said = record.reason or "the pipeline registered nothing"
            self._step(turn, "retrain", "failed", f"pipeline run {record.id}: {said}", evidence)
            self._finish(turn, "failed", said)
            said = f"loop turn {turn}: retraining {model} failed ({said}); the champion v{champion} stays"
            self._alert(endpoint, "warning", said, turn)
            return None
        version = int(registered["version"])
        evidence["registered"] = f"{model}@v{version}"
        self._step(turn, "retrain", "ok", f"pipeline run {record.id} registered {model} v{version}", evidence)
        return version

    def _pipeline(self, model: str, run_id: str, version: str) -> Pipeline:
        """The pipeline that registered the champion, reading ``version``; or, for a champion
        from `mlops train`, its training as a pipeline with the gates a promotion applies."""
        run = self._runs.get(run_id)
        made_by = run.tags.get("mlops.pipeline_run")
        definition = self._pipelines.definition(int(made_by)) if made_by else None
        if definition is not None:
            steps = {
                step["name"]: {
                    "kind": step["kind"],
                    "needs": step["needs"],
                    **(
                        {**step["settings"], "dataset": version}
                        if step["kind"] == "load"
                        else step["settings"]
                    ),
                }
                for step in definition["steps"]
            }
            document = {"name": definition["name"], "experiment": definition["experiment"], "steps": steps}
            return parse_pipeline(document, Path(definition["path"]))
        tags = run.tags
        train = {
            "target": tags["mlops.target"],
            "model": tags["mlops.model"],
            "features": json.loads(tags["mlops.features"]),
            "split": tags["mlops.split"],
            "test_size": float(tags["mlops.test_size"]),
            "seed": int(tags["mlops.seed"]),
            "params": dict(run.params),
        }
        steps = {"load": {"dataset": version}}
        suite = self._suite(version.split("@")[0], run.tags)
        if suite is not None:
            steps["validate"] = {"suite": suite}
        steps |= {
            "train": train,
            "evaluate": {},
            "gate": {"beats_champion": {"model_name": model, "metric": "f1", "margin": self._margin}},
            "register": {"model_name": model},
        }
        document = {"name": f"{model}-retrain", "experiment": run.experiment, "steps": steps}
        return parse_pipeline(document, Path(f"loop:{model}"))

    def _suite(self, dataset: str, tags: dict[str, str]) -> str | None:
        """The suite to validate the new data with: the dataset's required one, else the one
        the champion's training data passed."""
        required = self._quality.required_suite(dataset)
        if required is not None:
            return required
        trained_on = self._quality.latest_report(f"{tags['mlops.dataset']}@v{tags['mlops.dataset_version']}")
        return None if trained_on is None else trained_on.suite_name

    # ---- the canary

    def _judge(self, turn: LoopRun) -> str:
        """Promote or roll back a canary that has had its requests or its time; else wait."""
        assert turn.challenger_version is not None
        deployment = self._deployments.get(turn.endpoint)
        canary = f"{turn.model}@v{turn.challenger_version}"
        if [v.reference for v in deployment.variants[1:]] != [canary] or deployment.strategy != "canary":
            said = "the deployment was changed by hand while the canary was out"
            self._step(turn.id, "compare", "skipped", said, {"deployment": deployment.to_dict()})
            self._finish(turn.id, "failed", said)
            return "abandoned: " + said
        since = next(s.evidence["since"] for s in turn.steps if s.step == "canary")
        rates = self._error_rates(turn.endpoint, since)
        canary_requests = rates.get("canary", (0, 0))[0]
        elapsed = _now() - datetime.fromisoformat(since)
        if canary_requests < self._config.canary_requests and elapsed < timedelta(
            minutes=self._config.canary_minutes
        ):
            return f"canary waiting ({canary_requests} of {self._config.canary_requests} requests)"
        comparison = self._deployments.compare(turn.endpoint)
        worse = [
            d for d in comparison.differences if d.metric == "accuracy" and d.significant and d.difference < 0
        ]
        primary_rate, canary_rate = (_rate(rates.get(role, (0, 0))) for role in ("primary", "canary"))
        evidence = {
            "requests": {role: total for role, (total, _) in rates.items()},
            "error_rates": {"primary": primary_rate, "canary": canary_rate},
            "comparison": comparison.to_dict(),
        }
        if canary_requests == 0:
            reason = f"no canary requests in {self._config.canary_minutes:g} minutes: nothing to judge it on"
        elif canary_rate > primary_rate + self._config.max_error_rate_increase:
            reason = f"canary error rate {canary_rate:.2%} against the champion's {primary_rate:.2%}"
        elif worse:
            reason = f"canary accuracy worse by {-worse[0].difference:.3f} (p {worse[0].p_value:.3g})"
        else:
            self._step(turn.id, "compare", "ok", comparison.verdict, evidence)
            return self._promote(turn, deployment)
        self._step(turn.id, "compare", "failed", reason, evidence)
        self._serve_alone(deployment, deployment.variants[0].reference)
        self._step(
            turn.id, "rollback", "ok", f"{turn.endpoint} serves {deployment.variants[0].reference} alone", {}
        )
        self._finish(turn.id, "rolled_back", reason)
        self._alert(
            turn.endpoint, "warning", f"loop turn {turn.id}: canary {canary} rolled back: {reason}", turn.id
        )
        return "rolled back: " + reason

    def _promote(self, turn: LoopRun, deployment: Deployment) -> str:
        assert turn.challenger_version is not None
        promotion = self._registry.promote(
            turn.model,
            turn.challenger_version,
            CHAMPION,
            reason=f"automatic loop turn {turn.id}: the canary held",
        )
        primary = deployment.variants[0].reference
        if not promotion.promoted:
            refused = next(v.detail for v in promotion.verdicts if not v.passed)
            self._serve_alone(deployment, primary)
            self._step(turn.id, "rollback", "ok", f"promotion refused by the gates: {refused}", {})
            self._finish(turn.id, "rolled_back", f"promotion refused: {refused}")
            self._alert(
                turn.endpoint, "warning", f"loop turn {turn.id}: promotion refused: {refused}", turn.id
            )
            return "rolled back: promotion refused"
        pinned = primary.split("@")[-1][1:].isdigit()  # NAME@vN follows no alias: serve the new one
        follows = f"{turn.model}@v{turn.challenger_version}" if pinned else primary
        self._serve_alone(deployment, follows)
        said = (
            f"{turn.model}@champion is v{turn.challenger_version} (was v{turn.champion_version});"
            f" {turn.endpoint} serves {follows}"
        )
        self._step(turn.id, "promote", "ok", said, {"verdicts": [v.detail for v in promotion.verdicts]})
        self._finish(turn.id, "promoted", None)
        self._alert(turn.endpoint, "info", f"loop turn {turn.id}: {said}", turn.id)
        return "promoted"

    def _serve_alone(self, deployment: Deployment, reference: str) -> None:
        self._deployments.deploy(deployment.endpoint, reference)

    def _error_rates(self, endpoint: str, since: str) -> dict[str, tuple[int, int]]:
        """Requests and failed requests per variant since the canary went out."""
        with self._db.cursor() as cursor:
            rows = cursor.execute(
                "SELECT variant, count(DISTINCT request_id),"
                " count(DISTINCT request_id) FILTER (WHERE status >= 500) FROM prediction_log"
                " WHERE endpoint = ? AND logged_at >= CAST(? AS TIMESTAMPTZ)"
                " AND variant IN ('primary', 'canary') GROUP BY ALL",
                [endpoint, since],
            ).fetchall()
        return {variant: (int(total), int(failed)) for variant, total, failed in rows}

    # ---- the policy

    def _blocked(self, turn: int, deployment: Deployment) -> str | None:
        """Why the policy lets no turn of the endpoint run now, or None."""
        config = self._config
        with self._db.cursor() as cursor:
            out = cursor.execute(
                "SELECT id FROM loop_runs WHERE endpoint = ? AND outcome IN ('running', 'canary')"
                " AND id <> ?",
                [deployment.endpoint, turn],
            ).fetchone()
            if out is not None:
                return f"turn {out[0]} of {deployment.endpoint} is still out"
            if deployment.strategy != "single":
                return f"{deployment.endpoint} serves a {deployment.strategy} deployment set by hand"
            last = cursor.execute(
                "SELECT max(r.started_at) FROM loop_runs r JOIN loop_steps s ON s.run_id = r.id"
                " WHERE r.endpoint = ? AND s.step = 'retrain'",
                [deployment.endpoint],
            ).fetchone()
            if last and last[0] is not None and _now() - last[0] < timedelta(hours=config.cooldown_hours):
                return (
                    f"the last retrain of {deployment.endpoint} was under {config.cooldown_hours:g} hours ago"
                    " (cool-down)"
                )
            today = cursor.execute(
                "SELECT count(DISTINCT run_id) FROM loop_steps WHERE step = 'retrain'"
                " AND happened_at >= now() - INTERVAL 1 DAY"
            ).fetchone()
        if today and today[0] >= config.max_retrains_per_day:
            return (
                f"{today[0]} retrains in the last day (max_retrains_per_day = {config.max_retrains_per_day})"
            )
        return None

    # ---- records

    def _start(self, trigger: str, endpoint: str, model: str, champion: int) -> int:
        """A new turn; one still ``running`` was left by a process that stopped mid-turn (turns
        run one at a time, in the owner), and is closed as failed so it blocks nothing."""
        with self._db.cursor() as cursor:
            cursor.execute(
                "UPDATE loop_runs SET outcome = 'failed', finished_at = now(),"
                " reason = 'the process running it stopped' WHERE outcome = 'running'"
            )
            row = cursor.execute(
                "INSERT INTO loop_runs (trigger, endpoint, model, champion_version, outcome)"
                " VALUES (?, ?, ?, ?, 'running') RETURNING id",
                [trigger, endpoint, model, champion],
            ).fetchone()
        assert row is not None
        return int(row[0])

    def _step(self, turn: int, step: str, status: str, detail: str, evidence: dict[str, Any]) -> None:
        with self._db.cursor() as cursor:
            cursor.execute(
                "INSERT INTO loop_steps (run_id, step, status, detail, evidence_json) VALUES (?, ?, ?, ?, ?)",
                [turn, step, status, detail, json.dumps(evidence, default=str)],
            )

    def _finish(self, turn: int, outcome: str, reason: str | None, finished: bool = True) -> None:
        with self._db.cursor() as cursor:
            cursor.execute(
                "UPDATE loop_runs SET outcome = ?, reason = ?,"
                " finished_at = CASE WHEN ? THEN now() ELSE NULL END WHERE id = ?",
                [outcome, reason, finished, turn],
            )

    def _get(self, turn: int) -> LoopRun:
        (found,) = self._turns("id = ?", [turn])
        return found

    def _alert(self, endpoint: str, severity: str, message: str, turn: int) -> None:
        self._alerts.raise_alert(
            f"loop:{endpoint}", severity, message, {"turn": turn}, key=f"loop:{turn}:{severity}"
        )


def _trigger_said(trigger: str, evidence: dict[str, Any]) -> str:
    return {
        "drift": "the drift monitor found dataset drift",
        "accuracy": "the accuracy monitor found a metric below its floor",
        "schedule": "the weekly retrain",
        MANUAL: "mlops loop run",
    }.get(trigger, trigger) + (f": {evidence['said']}" if "said" in evidence else "")


def _data_said(data: RetrainData) -> str:
    said = f"{data.version}: {data.base} + {data.production_rows:,} labelled production rows"
    if data.excluded_rows:
        said += f" ({data.excluded_rows:,} left out: their batch failed validation)"
    return said


def _rate(counts: tuple[int, int]) -> float:
    total, failed = counts
    return failed / total if total else 0.0


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: Any) -> str:
    return moment.isoformat(timespec="seconds") if isinstance(moment, datetime) else str(moment)
