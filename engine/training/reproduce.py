"""Re-running a run from what it recorded, and saying metric by metric whether it matched.

A run records its dataset version and content hash, features, feature views, model, params,
split, test size, seed and positive class, so retraining needs nothing else. A dataset whose
version is gone or whose content no longer hashes the same is reported, not silently replaced.
"""

from __future__ import annotations

import json

from engine.data.datasets import Datasets
from engine.errors import InvalidInput
from engine.training.trainer import Trainer
from engine.types.progress import Progress, no_progress
from engine.types.training import MetricCheck, Reproduction, Run, TrainRequest


def request_from_run(run: Run, datasets: Datasets) -> TrainRequest:
    """The request that produced ``run``, checked against the data it used."""
    tags = run.tags
    if "mlops.model" not in tags:
        raise InvalidInput(f"run {run.run_id} was not made by `mlops train`; nothing to reproduce from")
    ref = f"{tags['mlops.dataset']}@v{tags['mlops.dataset_version']}"
    version = datasets.resolve(ref)
    if version.content_hash != tags["mlops.content_hash"]:
        raise InvalidInput(f"{ref} no longer holds the data the run used (content hash differs)")
    views = json.loads(tags.get("mlops.feature_views", "[]"))
    features = json.loads(tags["mlops.features"])
    return TrainRequest(
        dataset=ref,
        target=tags["mlops.target"],
        model=tags["mlops.model"],
        features=[f for f in features if not views or f in _dataset_columns(version.schema)],
        feature_views=views,
        params={name: value for name, value in run.params.items()},
        experiment=run.experiment,
        run_name=f"{run.run_name}-reproduced",
        split=tags["mlops.split"],
        test_size=float(tags["mlops.test_size"]),
        seed=int(tags["mlops.seed"]),
        positive_class=run.positive_class,
    )


def reproduce(
    run: Run, datasets: Datasets, trainer: Trainer, progress: Progress = no_progress
) -> Reproduction:
    result = trainer.train(request_from_run(run, datasets), progress)
    checks = [
        MetricCheck(name, value, result.metrics[name])
        for name, value in sorted(run.metrics.items())
        if name in result.metrics
    ]
    return Reproduction(run.run_id, result, checks)


def _dataset_columns(schema: list[tuple[str, str]]) -> set[str]:
    return {name for name, _ in schema}
