"""The "beats the champion" gate: challenger and champion scored on the same held-out rows.

The champion is the version of a registered model behind its ``champion`` alias. Its logged
metrics may come from another dataset version or split, so it is scored again here on the
challenger's own held-out rows (rebuilt from what the challenger's run recorded), and the
challenger must beat that score by the configured margin. No registered model or no champion
yet passes: there is nothing to beat.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from engine.errors import InvalidInput
from engine.pipelines.records import Verdict
from engine.training.metrics import classification_metrics
from engine.training.reproduce import request_from_run

if TYPE_CHECKING:
    from engine.data.datasets import Datasets
    from engine.pipelines.steps import StepContext
    from engine.training.runs import Runs
    from engine.training.trainer import Trainer

CHAMPION_ALIAS = "champion"


def verdict(settings: dict[str, Any], evaluation: dict[str, Any], context: StepContext) -> Verdict:
    name, metric = settings["model_name"], settings.get("metric", "f1")
    margin = float(settings.get("margin", 0.0))
    check = f"beats {name}@{CHAMPION_ALIAS} on {metric}" + (f" by {margin:g}" if margin else "")
    challenger = evaluation["metrics"].get(metric)
    if challenger is None:
        return Verdict(check, False, f"no metric {metric!r} for the challenger")
    version = context.registry.lookup.alias(name, CHAMPION_ALIAS)
    if version is None:
        return Verdict(check, True, f"{name} has no {CHAMPION_ALIAS} yet; nothing to beat", challenger)
    if version.run_id == evaluation["run_id"]:
        return Verdict(
            check, True, f"the run is {name} v{version.version}, the {CHAMPION_ALIAS} itself", challenger
        )
    try:
        score = champion_score(
            version.run_id,
            evaluation["run_id"],
            metric,
            context.runs,
            context.datasets,
            context.trainer,
            context.tracking_uri,
        )
    except InvalidInput as error:
        return Verdict(
            check, False, f"{name} v{version.version} cannot be scored on the challenger's rows: {error}"
        )
    passed = challenger >= score + margin
    relation = "beats" if passed else "does not beat"
    return Verdict(
        check,
        passed,
        f"{metric} {challenger:.4f} {relation} {name} v{version.version}'s {score:.4f}"
        + (f" + {margin:g}" if margin else "")
        + " on the same held-out rows",
        challenger,
    )


def champion_score(
    champion_run_id: str,
    challenger_run_id: str,
    metric: str,
    runs: Runs,
    datasets: Datasets,
    trainer: Trainer,
    tracking_uri: str,
) -> float:
    """The champion's ``metric`` on the challenger's held-out rows."""
    from engine.training import tracking

    request = request_from_run(runs.get(challenger_run_id), datasets)
    data = trainer.prepare(request)
    champion = runs.get(champion_run_id)
    if "mlops.features" not in champion.tags:
        raise InvalidInput(f"run {champion_run_id} records no feature list")
    features = json.loads(champion.tags["mlops.features"])
    missing = [name for name in features if name not in data.frame.columns]
    if missing:
        raise InvalidInput(f"the champion needs features {', '.join(missing)}, absent from {request.dataset}")
    model = tracking.load_model(tracking_uri, champion_run_id)
    rows = data.frame.iloc[data.test_rows][features]
    metrics = classification_metrics(data.y_test.to_numpy(), model.predict(rows), model.predict_proba(rows))
    if metric not in metrics:
        raise InvalidInput(f"metric {metric!r} is not one of {', '.join(sorted(metrics))}")
    return metrics[metric]
