"""Listing runs: `mlops`'s run search vs ``mlflow.search_runs`` on the same 5,000-run store,
and the tracking overhead of a training run (its wall time beyond ``fit``).

The store is filled through MLflow's own client (params, metrics, tags like a real sweep's),
which takes a few minutes; the query is the same filter, order and limit on both sides.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.timing import median_seconds
from engine.facade import Engine

RUNS = 5_000
REPEATS = 5
FILTER = "metrics.f1 > 0.8 and params.model = 'random_forest'"
ORDER = "metrics.f1 DESC"
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def fill(tracking_uri: str, artifacts: Path) -> str:
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    store = MlflowClient(tracking_uri=tracking_uri)
    experiment = store.create_experiment("sweep", artifact_location=(artifacts / "sweep").as_uri())
    rng = random.Random(7)
    models = ["random_forest", "gradient_boosting", "logistic_regression"]
    for _ in range(RUNS):
        run = store.create_run(experiment)
        metrics = [
            Metric(name, rng.uniform(0.6, 0.95), 0, 0) for name in ("f1", "roc_auc", "accuracy", "precision")
        ]
        params = [
            Param("model", rng.choice(models)),
            Param("max_depth", str(rng.randint(2, 20))),
            Param("n_estimators", str(rng.choice([100, 200, 400]))),
        ]
        store.log_batch(
            run.info.run_id,
            metrics=metrics,
            params=params,
            tags=[RunTag("mlops.dataset", "churn"), RunTag("mlops.dataset_version", "1")],
        )
        store.set_terminated(run.info.run_id, "FINISHED")
    return experiment


def main() -> None:
    import mlflow

    with tempfile.TemporaryDirectory() as folder:
        engine, _ = Engine.init(Path(folder) / "ws", command="benchmark")
        with engine:
            started = time.perf_counter()
            experiment = fill(engine.tracking_uri, engine.workspace.artifacts_dir)
            fill_seconds = time.perf_counter() - started
            ours = median_seconds(lambda: engine.runs.search("sweep", FILTER, ORDER, 100), REPEATS)
            mlflow.set_tracking_uri(engine.tracking_uri)
            theirs = median_seconds(
                lambda: mlflow.search_runs([experiment], FILTER, order_by=[ORDER], max_results=100), REPEATS
            )
            assert [r.run_id for r in engine.runs.search("sweep", FILTER, ORDER, 100)] == list(
                mlflow.search_runs([experiment], FILTER, order_by=[ORDER], max_results=100).run_id
            )
            engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
            from engine.types.training import TrainRequest

            overheads = []
            for _ in range(3):
                result = engine.training.train(TrainRequest("churn", "churned", "logistic_regression"))
                overheads.append(result.total_seconds - result.fit_seconds)
    print(f"### Runs: filter + order by + limit 100 over {RUNS:,} runs (median of {REPEATS})\n")
    print(f"Filter `{FILTER}`, order `{ORDER}`; both return the same runs in the same order.\n")
    print("| what | seconds |")
    print("| --- | ---: |")
    print(f"| `engine.runs.search` (what `mlops runs list` runs) | {ours:.3f} |")
    print(f"| `mlflow.search_runs` on the same store | {theirs:.3f} |")
    print(f"\n(filling the store through MlflowClient took {fill_seconds:.0f} s)\n")
    print("### Tracking overhead per run (logistic regression on the 20k-row sample, 3 runs)\n")
    print(
        "| wall time beyond `fit` (load, split, score; log params, metrics, tags, model, figures) | seconds |"
    )
    print("| --- | ---: |")
    print(f"| first run in the process (imports MLflow and scikit-learn) | {overheads[0]:.2f} |")
    print(f"| later runs (median) | {statistics.median(overheads[1:]):.2f} |")


if __name__ == "__main__":
    main()
