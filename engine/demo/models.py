"""The demo's models: three kinds trained, a small sweep, the sample pipeline with its gates,
the best run evaluated (fairness table included), promoted through the gates, exported to
ONNX and deployed.

Every model trains on ``churn@v1``, the labelled reference period, by name: the production
weeks are later versions of ``churn`` without labels."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from engine.demo.services import DemoServices
from engine.types.progress import Progress
from engine.types.registry import CHAMPION
from engine.types.training import SweepRequest, TrainRequest

TRAINING_DATA = "churn@v1"
TARGET = "churned"
MODEL_NAME = "churn"
ENDPOINT = "churn-api"
EXPERIMENT = "churn-demo"
KINDS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("demo-logistic", "logistic_regression", {}),
    ("demo-forest", "random_forest", {"n_estimators": "60", "max_depth": "10"}),
    ("demo-boosting", "hist_gradient_boosting", {"max_iter": "100"}),
)
"""Small enough to train in seconds each on two cores, big enough to differ."""
SWEEP_GRID = {"n_estimators": ["30", "60"], "max_depth": ["6", "12"]}


def train_and_compare(engine: DemoServices, progress: Progress) -> list[dict[str, Any]]:
    """The three kinds, then a four-trial sweep of the forest on two workers; every run ranked."""
    trained: list[dict[str, Any]] = []
    for index, (name, model, params) in enumerate(KINDS):
        progress(f"training {model}", index / 5)
        run = engine.training.train(
            TrainRequest(TRAINING_DATA, TARGET, model, params=params, experiment=EXPERIMENT, run_name=name)
        )
        trained.append(_run(run.run_name, run.model, run.metrics, run.run_id, "train"))
    progress("sweeping the forest: 4 trials on 2 workers", 3 / 5)
    sweep = engine.training.sweep(
        SweepRequest(
            TrainRequest(
                TRAINING_DATA, TARGET, "random_forest", experiment=EXPERIMENT, run_name="demo-sweep"
            ),
            grid=SWEEP_GRID,
            workers=2,
        )
    )
    for trial in sweep.ranked:
        trained.append(_run(trial.run_name, "random_forest", trial.metrics, trial.run_id, "sweep"))
    engine.runs.compare([run["run_id"] for run in trained])  # what `mlops runs compare` shows
    return trained


def run_pipeline(engine: DemoServices, sample: Path, progress: Progress) -> dict[str, Any]:
    """The sample pipeline, its load step pinned to the labelled reference (``churn`` is the
    latest production week by now); a copy in ``.mlops/demo/`` is what ran."""
    source = (sample / "churn_pipeline.toml").read_text()
    pinned = source.replace('dataset = "churn"', f'dataset = "{TRAINING_DATA}"', 1)
    folder = engine.workspace.mlops_dir / "demo"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / "churn_pipeline.toml"
    path.write_text(pinned)
    record = engine.pipelines.run(path, progress=progress)
    outputs = {step.name: step.output for step in record.steps}
    registered = outputs.get("register") or {}
    return {
        "id": record.id,
        "status": record.status,
        "reason": record.reason,
        "run_id": (outputs.get("train") or {}).get("run_id"),
        "registered": f"{MODEL_NAME}@v{registered['version']}" if "version" in registered else None,
        "path": str(path),
    }


def pipeline_run(engine: DemoServices, pipeline: dict[str, Any]) -> dict[str, Any] | None:
    run_id = pipeline.get("run_id")
    if not run_id:
        return None
    run = engine.runs.get(run_id)
    return _run(run.run_name, "random_forest", run.metrics, run.run_id, "pipeline")


def best_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return max(runs, key=lambda run: run["f1"] if run["f1"] == run["f1"] else -math.inf)


def promote_and_deploy(
    engine: DemoServices, best: dict[str, Any], pipeline: dict[str, Any], progress: Progress
) -> dict[str, Any]:
    """Evaluate the best run, register it (unless the pipeline did), promote it through the
    gates (its ONNX file is exported and checked on the way) and deploy it as ``churn-api``."""
    progress(f"evaluating {best['name']}: metrics, business impact, fairness", 0.0)
    evaluation = engine.evaluation.evaluate(best["run_id"])
    fairness = {
        item.attribute: {
            "demographic_parity_ratio": item.demographic_parity_ratio,
            "equalized_odds_difference": item.equalized_odds_difference,
            "violations": item.violations,
        }
        for item in evaluation.fairness
    }
    if best["how"] == "pipeline" and pipeline["registered"]:
        version = int(pipeline["registered"].rpartition("@v")[2])
    else:
        progress(f"registering {best['name']} as {MODEL_NAME}", 0.3)
        version = engine.registry.register(best["run_id"], MODEL_NAME).version
    progress(f"promoting {MODEL_NAME} v{version} through the gates", 0.4)
    promotion = engine.registry.promote(MODEL_NAME, version, CHAMPION, progress=progress)
    verdicts = [verdict.to_dict() for verdict in promotion.verdicts]
    if not promotion.promoted:
        refused = "; ".join(v["detail"] for v in verdicts if not v["passed"])
        promotion = engine.registry.promote(
            MODEL_NAME, version, CHAMPION, force=True, reason=f"mlops demo: the gates refused ({refused})"
        )
    progress(f"deploying {MODEL_NAME}@champion as {ENDPOINT}", 0.9)
    engine.deployments.deploy(ENDPOINT, f"{MODEL_NAME}@{CHAMPION}")
    export = promotion.export
    return {
        **best,
        "evaluation_id": evaluation.id,
        "metrics": {k: evaluation.scores.metrics.get(k) for k in ("f1", "accuracy", "roc_auc")},
        "fairness": fairness,
        "version": version,
        "gates": verdicts,
        "forced": bool(promotion.move and promotion.move.action == "forced promote"),
        "onnx": export.path if export is not None else None,
    }


def _run(name: str, model: str, metrics: dict[str, float], run_id: str, how: str) -> dict[str, Any]:
    return {"name": name, "model": model, "f1": metrics.get("f1", math.nan), "run_id": run_id, "how": how}
