"""ONNX Runtime vs scikit-learn on the promoted sample model: single-row and 10k-batch latency,
and the parity figures the promotion checked.

The sample model is the catalogue's random forest with its defaults, trained on the churn
reference data, registered and promoted to champion (forced: the sample's planted age-group
disparity fails the fairness gate), which exports and verifies its ONNX file. Latency is the
median of repeated calls on rows of the reference data; ONNX Runtime runs the stored file with
one intra-op thread (faster here than its default) and inputs built per column from a frame
(the export's parity path). The serving core (engine/serving/model.py) is timed on the same
rows as a request carries them (JSON objects), checks included, beside the graph's own
``session.run`` on inputs already built: the floor.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.timing import median_seconds
from engine.facade import Engine
from engine.types.training import TrainRequest

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
SINGLE_ROW_CALLS = 300
BATCH_ROWS = 10_000
BATCH_REPEATS = 7


def single_row_ms(work_for_row: Callable[[Any], object], rows: list[Any]) -> float:
    """The median milliseconds of one call on one row, cycling through ``rows``."""
    timings = []
    for index in range(SINGLE_ROW_CALLS):
        started = time.perf_counter()
        work_for_row(rows[index % len(rows)])
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def served_feed(served: Any, row: Any) -> dict[str, Any]:
    """The graph's inputs for one frame row, built ahead (the floor: ``session.run`` alone)."""
    import numpy as np

    feed = {}
    for feature in served.features:
        value = row[feature.column].iloc[0]
        if feature.kind == "number":
            feed[feature.input] = np.array([[value]], dtype=np.float32)
        else:
            feed[feature.input] = np.array([[str(value)]], dtype=object)
    return feed


def main() -> None:
    import numpy as np
    import onnxruntime

    from engine.registry.onnx_export import predict_proba_onnx
    from engine.serving.model import ServedModel
    from engine.training import tracking

    with tempfile.TemporaryDirectory() as folder:
        engine, _ = Engine.init(Path(folder) / "ws", command="benchmark")
        with engine:
            engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
            engine.suites.add(SAMPLE / "churn_suite.json", "churn_suite")
            engine.quality.validate("churn", "churn_suite")
            run = engine.training.train(TrainRequest("churn", "churned", "random_forest"))
            engine.registry.register(run.run_id, "churn")
            promotion = engine.registry.promote("churn", 1, force=True, reason="benchmark")
            assert promotion.export is not None
            export = promotion.export
            pipeline = tracking.load_model(engine.tracking_uri, run.run_id)
            with engine._db.cursor() as cursor:
                frame = cursor.execute(f'SELECT * FROM data."churn@v1" LIMIT {BATCH_ROWS}').df()
        features = run.features
        rows = [frame.iloc[[i]][features] for i in range(200)]
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        session = onnxruntime.InferenceSession(Path(export.path).read_bytes(), options)
        batch = frame[features]
        agreement = np.abs(
            predict_proba_onnx(session, batch)[:, 1] - pipeline.predict_proba(batch)[:, 1]
        ).max()

        served = ServedModel.load("churn", 1, export.path, export.sha256)
        requests = [[item] for item in json.loads(frame[features].head(200).to_json(orient="records"))]
        feeds = [served_feed(served, row) for row in rows]

        sklearn_row = single_row_ms(pipeline.predict_proba, rows)
        onnx_row = single_row_ms(lambda row: predict_proba_onnx(session, row), rows)
        served_row = single_row_ms(served.predict, requests)
        run_row = single_row_ms(lambda feed: session.run(["probabilities"], feed), feeds)
        sklearn_batch = median_seconds(lambda: pipeline.predict_proba(batch), BATCH_REPEATS) * 1000
        onnx_batch = median_seconds(lambda: predict_proba_onnx(session, batch), BATCH_REPEATS) * 1000

    print("### ONNX Runtime vs scikit-learn on the promoted sample model (random forest, defaults)\n")
    print(
        f"Parity checked at promotion: max |Δp| {export.max_abs_difference:.1e} on "
        f"{export.rows_checked:,} held-out rows, labels identical: {export.labels_identical}; "
        f"on {BATCH_ROWS:,} reference rows here: max |Δp| {agreement:.1e}. ONNX file "
        f"{export.size_bytes / 1e6:.1f} MB.\n"
    )
    print("| | single row (median of 300) | 10k-row batch (median of 7) |")
    print("| --- | ---: | ---: |")
    print(f"| scikit-learn `predict_proba` | {sklearn_row:.2f} ms | {sklearn_batch:.0f} ms |")
    print(f"| ONNX Runtime, 1 thread, per-column inputs | {onnx_row:.3f} ms | {onnx_batch:.0f} ms |")
    print(f"| serving core: a JSON row checked, arrays built, run | {served_row:.3f} ms | |")
    print(f"| `session.run` alone, inputs already built | {run_row:.3f} ms | |")
    print()
