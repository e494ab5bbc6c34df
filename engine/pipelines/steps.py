"""What each kind of step does, what its cache key is made of, and when a cached result is stale.

A step gets the output of the upstream step it takes input from (``Step.source``) and returns
its own output, a JSON-ready dict with a one-line ``summary``. A step that cannot go on raises
``StepFailed`` with the reason (and, for a gate, every verdict), which stops the pipeline.

``StepContext.evaluate`` scores a run on its held-out rows with the full evaluation
(engine/evaluation), so gates read metrics, ``business.*`` and ``fairness.ATTR.*`` figures by
name. The register step adds a version through the registry (engine/registry); aliases are
moved only by promotion, behind its gates.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.data.datasets import Datasets
from engine.data.feature_store import FeatureStore
from engine.data.quality import DataQuality
from engine.data.suite_store import Suites
from engine.db import Database
from engine.errors import InvalidInput, MlopsError
from engine.pipelines.definition import Pipeline, Step, parse_condition
from engine.pipelines.fingerprint import files_digest, training_code_version
from engine.registry.gates import (
    ChampionScorer,
    bounds_verdict,
    data_verdict,
    judged_attributes,
    threshold_verdict,
)
from engine.registry.lookup import RegistryLookup
from engine.registry.registry import Registry
from engine.training import tracking
from engine.training.catalogue import model_spec
from engine.training.runs import Runs
from engine.training.trainer import Trainer
from engine.types.evaluation import Evaluation
from engine.types.progress import Progress
from engine.types.registry import CHAMPION, Verdict
from engine.types.training import TrainRequest

# Evaluates a run on its held-out rows (metrics, business impact, fairness).
Evaluator = Callable[[str], Evaluation]


class StepFailed(MlopsError):
    """A step could not do its work, or a gate refused; the pipeline stops here."""

    def __init__(self, reason: str, verdicts: list[Verdict] | None = None) -> None:
        super().__init__(reason)
        self.verdicts = verdicts or []


@dataclass(frozen=True)
class StepContext:
    pipeline: Pipeline
    pipeline_run: int
    db: Database
    datasets: Datasets
    suites: Suites
    quality: DataQuality
    features: FeatureStore
    trainer: Trainer
    runs: Runs
    registry: Registry
    lookup: RegistryLookup
    champion: ChampionScorer
    tracking_uri: str
    evaluate: Evaluator
    evaluation_settings: dict[str, Any]  # the cost matrix, fairness bounds and promotion gates
    progress: Progress

    @property
    def folder(self) -> Path:
        return Path(self.pipeline.path).parent


Fingerprint = Callable[[Step, dict[str, Any], StepContext], "dict[str, Any] | None"]
Action = Callable[[Step, dict[str, Any], StepContext], dict[str, Any]]
StillValid = Callable[[dict[str, Any], StepContext], bool]


@dataclass(frozen=True)
class StepKind:
    fingerprint: Fingerprint  # what the cache key hashes; None: the step always runs
    run: Action
    still_valid: StillValid  # whether a cached output still points at something that exists


def _always(output: dict[str, Any], context: StepContext) -> bool:
    return True


# ---- load


def _load_fingerprint(step: Step, upstream: dict[str, Any], context: StepContext) -> dict[str, Any] | None:
    """A named dataset version is its content hash; a query or a retrieval must run to be known,
    and stores nothing new when its result is unchanged (versions are content-addressed)."""
    if "dataset" not in step.settings:
        return None
    version = context.datasets.resolve(step.settings["dataset"])
    return {"dataset": version.ref, "content_hash": version.content_hash}


def _load(step: Step, upstream: dict[str, Any], context: StepContext) -> dict[str, Any]:
    settings = step.settings
    if "dataset" in settings:
        version = context.datasets.resolve(settings["dataset"])
        created = False
    elif "query" in settings:
        result = context.datasets.ingest_query(settings["query"], settings["output"])
        version, created = result.version, result.created
    else:
        views = settings["feature_views"]
        frame = context.features.historical(settings["entities"], views)
        source = f"features: {settings['entities']} + {', '.join(views)}"
        result = context.datasets.ingest_frame(frame, settings["output"], source)
        version, created = result.version, result.created
    new = " (new version)" if created else ""
    return {
        "dataset": version.ref,
        "content_hash": version.content_hash,
        "rows": version.row_count,
        "summary": f"{version.ref}{new}: {version.row_count:,} rows",
    }


def _dataset_exists(output: dict[str, Any], context: StepContext) -> bool:
    try:
        return bool(context.datasets.resolve(output["dataset"]).content_hash == output["content_hash"])
    except InvalidInput:
        return False


# ---- validate


def _validate_fingerprint(step: Step, upstream: dict[str, Any], context: StepContext) -> dict[str, Any]:
    suite = context.suites.get(step.settings["suite"]).suite.to_json()
    return {"content_hash": upstream["content_hash"], "suite": suite}


def _validate(step: Step, upstream: dict[str, Any], context: StepContext) -> dict[str, Any]:
    suite = step.settings["suite"]
    report = context.quality.validate(upstream["dataset"], suite)
    failed = [result for result in report.results if not result.success]
    total = len(report.results)
    if failed:
        listed = "; ".join(
            f"{r.type}" + (f" on {r.kwargs['column']}" if "column" in r.kwargs else "") for r in failed[:3]
        )
        more = f" and {len(failed) - 3} more" if len(failed) > 3 else ""
        raise StepFailed(
            f"{upstream['dataset']} failed suite {suite}: {len(failed)} of {total} expectations failed "
            f"({listed}{more})"
        )
    return {
        "dataset": upstream["dataset"],
        "suite": suite,
        "expectations": total,
        "summary": f"{upstream['dataset']} passed suite {suite} ({total} expectations)",
    }


# ---- train


def _train_request(step: Step, upstream: dict[str, Any], context: StepContext) -> TrainRequest:
    settings = step.settings
    return TrainRequest(
        dataset=upstream["dataset"],
        target=settings["target"],
        model=settings.get("model", "random_forest"),
        features=settings.get("features"),
        feature_views=settings.get("feature_views", []),
        params={name: str(value) for name, value in settings.get("params", {}).items()},
        experiment=context.pipeline.experiment,
        run_name=f"{context.pipeline.name}-{context.pipeline_run}-{step.name}",
        split=settings.get("split", "random"),
        test_size=float(settings.get("test_size", 0.2)),
        seed=settings.get("seed", 42),
        positive_class=settings.get("positive_class"),
    )


def _train_fingerprint(step: Step, upstream: dict[str, Any], context: StepContext) -> dict[str, Any]:
    request = _train_request(step, upstream, context)
    spec = model_spec(request.model)
    where = f"{Path(context.pipeline.path).name}: step {step.name!r}"
    parts: dict[str, Any] = {
        "content_hash": upstream["content_hash"],
        # The run's name says which pipeline run made it; it is not an input.
        "request": {
            **request.__dict__,
            "run_name": None,
            "params": {**spec.defaults, **spec.parse_params(request.params)},
        },
        "code": training_code_version(),
        "deps": files_digest(step.settings.get("deps", []), context.folder, where),
    }
    if request.feature_views:
        parts["feature_definitions"] = _feature_definitions(context.db)
    return parts


def _feature_definitions(db: Database) -> list[Any]:
    """Every applied feature definition, with the source of on-demand functions."""
    with db.cursor() as cursor:
        rows = cursor.execute(
            "SELECT kind, name, definition FROM feature_registry ORDER BY kind, name"
        ).fetchall()
    definitions: list[Any] = []
    for kind, name, definition in rows:
        function = json.loads(definition).get("function") if kind == "on_demand_view" else None
        code = Path(function.rpartition(":")[0]).read_text() if function else None
        definitions.append([kind, name, definition, code])
    return definitions


def _train(step: Step, upstream: dict[str, Any], context: StepContext) -> dict[str, Any]:
    request = _train_request(step, upstream, context)
    try:
        result = context.trainer.train(request, context.progress)
    except InvalidInput as error:
        raise StepFailed(str(error)) from None
    store = tracking.client(context.tracking_uri)
    store.set_tag(result.run_id, "mlops.pipeline", context.pipeline.name)
    store.set_tag(result.run_id, "mlops.pipeline_run", str(context.pipeline_run))
    return {
        "run_id": result.run_id,
        "run_name": result.run_name,
        "model": result.model,
        "dataset": result.dataset,
        "metrics": result.metrics,
        "summary": f"run {result.run_name}: {result.model} f1 {result.metrics['f1']:.3f}",
    }


def _run_exists(output: dict[str, Any], context: StepContext) -> bool:
    try:
        return bool(context.runs.get(output["run_id"]).status == "FINISHED")
    except InvalidInput:
        return False


# ---- evaluate


def _evaluate_fingerprint(step: Step, upstream: dict[str, Any], context: StepContext) -> dict[str, Any]:
    return {"run_id": upstream["run_id"], "settings": context.evaluation_settings}


def _evaluate(step: Step, upstream: dict[str, Any], context: StepContext) -> dict[str, Any]:
    evaluation = context.evaluate(upstream["run_id"])
    metrics = evaluation.gate_metrics()
    shown = ", ".join(f"{name} {metrics[name]:.3f}" for name in ("f1", "roc_auc") if name in metrics)
    return {
        "run_id": upstream["run_id"],
        "run_name": upstream.get("run_name"),
        "metrics": metrics,
        "fairness_judged": judged_attributes(evaluation),
        "violations": evaluation.violations,
        "summary": f"held-out {shown}",
    }


# ---- gate


def _gate(step: Step, upstream: dict[str, Any], context: StepContext) -> dict[str, Any]:
    metrics: dict[str, float] = upstream["metrics"]
    verdicts = _promotion_verdicts(upstream, context) if step.settings.get("promotion_gates", True) else []
    for index, text in enumerate(step.settings.get("require", [])):
        condition = parse_condition(text, f"require[{index}]")
        value = metrics.get(condition.metric)
        if value is None:
            known = ", ".join(sorted(metrics))
            verdicts.append(
                Verdict(str(condition), False, f"no metric {condition.metric!r}; evaluate gives {known}")
            )
        else:
            sign = "meets" if condition.holds(value) else "fails"
            verdicts.append(
                Verdict(str(condition), condition.holds(value), f"{value:.4f} {sign} {condition}", value)
            )
    if "beats_champion" in step.settings:
        settings = step.settings["beats_champion"]
        metric = settings.get("metric", "f1")
        verdicts.append(
            context.champion.verdict(
                settings["model_name"],
                upstream["run_id"],
                metrics.get(metric),
                metric,
                float(settings.get("margin", 0.0)),
            )
        )
    failed = [verdict for verdict in verdicts if not verdict.passed]
    if failed:
        raise StepFailed(f"gate refused: {'; '.join(v.detail for v in failed)}", verdicts)
    return {
        "run_id": upstream["run_id"],
        "verdicts": [v.to_dict() for v in verdicts],
        "summary": f"{len(verdicts)} of {len(verdicts)} checks passed",
    }


def _promotion_verdicts(upstream: dict[str, Any], context: StepContext) -> list[Verdict]:
    """The workspace's promotion gates (``mlops models promote``'s, from ``[gates]`` and
    ``[fairness]``) judged on this evaluation, so a pipeline does not register a version that
    promotion would then refuse; ``beats_champion`` is the pipeline's own, naming its model."""
    run = context.runs.get(upstream["run_id"])
    min_f1 = float(context.evaluation_settings["gates"]["min_f1"])
    return [
        data_verdict(run, context.datasets),
        threshold_verdict(upstream["metrics"]["f1"], "f1", min_f1),
        bounds_verdict(upstream["fairness_judged"], upstream["violations"]),
    ]


# ---- register


def _register_fingerprint(step: Step, upstream: dict[str, Any], context: StepContext) -> dict[str, Any]:
    return {"run_id": upstream["run_id"], "model_name": step.settings["model_name"]}


def _register(step: Step, upstream: dict[str, Any], context: StepContext) -> dict[str, Any]:
    tags = {"mlops.pipeline": context.pipeline.name, "mlops.pipeline_run": str(context.pipeline_run)}
    version = context.registry.register(upstream["run_id"], step.settings["model_name"], tags)
    return {
        "model_name": version.model,
        "version": version.version,
        "run_id": version.run_id,
        "summary": f"{version.model} version {version.version} from run {version.run_name}",
    }


def _version_exists(output: dict[str, Any], context: StepContext) -> bool:
    return context.lookup.version_exists(output["model_name"], int(output["version"]))


def _gate_fingerprint(step: Step, upstream: dict[str, Any], context: StepContext) -> dict[str, Any]:
    """The metrics judged and, for ``beats_champion``, the champion version judged against: a
    new champion makes the gate judge again."""
    parts: dict[str, Any] = {
        "run_id": upstream["run_id"],
        "metrics": upstream["metrics"],
        "violations": upstream["violations"],
        "gates": context.evaluation_settings["gates"],
    }
    if "beats_champion" in step.settings:
        model_name = step.settings["beats_champion"]["model_name"]
        parts["champion"] = context.lookup.alias(model_name, CHAMPION)
    return parts


KIND_ACTIONS: dict[str, StepKind] = {
    "load": StepKind(_load_fingerprint, _load, _dataset_exists),
    "validate": StepKind(_validate_fingerprint, _validate, _always),
    "train": StepKind(_train_fingerprint, _train, _run_exists),
    "evaluate": StepKind(_evaluate_fingerprint, _evaluate, _always),
    "gate": StepKind(_gate_fingerprint, _gate, _always),
    "register": StepKind(_register_fingerprint, _register, _version_exists),
}
