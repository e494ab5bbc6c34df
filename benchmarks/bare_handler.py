"""``python -m benchmarks.bare_handler ONNX_FILE PORT``: the floor for the serving benchmark.

A FastAPI route that runs the ONNX graph on a KServe V1 body and answers the positive class's
probability: no auth, no checks, no log, one uvicorn process. The graph's session has the
serving core's options (one thread each, sequential), so the difference to ``mlops serve`` is
what the server does around the graph.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np
import onnxruntime
import uvicorn
from fastapi import FastAPI, Request

from engine.types.registry import ONNX_COLUMNS_PROPERTY, ONNX_STRING_TENSOR


def build(onnx_path: str) -> FastAPI:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    session = onnxruntime.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    columns = json.loads(session.get_modelmeta().custom_metadata_map[ONNX_COLUMNS_PROPERTY])
    inputs = [
        (column, spec.name, spec.type == ONNX_STRING_TENSOR)
        for column, spec in zip(columns, session.get_inputs(), strict=True)
    ]
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, bool]:
        return {"live": True}

    @app.post("/predict")
    async def predict(request: Request) -> dict[str, Any]:
        instances = (await request.json())["instances"]
        feed = {
            name: np.array([[row[column]] for row in instances], dtype=object if text else np.float32)
            for column, name, text in inputs
        }
        _, probabilities = session.run(["label", "probabilities"], feed)
        return {"predictions": [{"score": float(row[1])} for row in probabilities]}

    return app


if __name__ == "__main__":
    uvicorn.run(
        build(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False
    )
