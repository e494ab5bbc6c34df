"""Serving: registry versions' ONNX graphs answering KServe V1 and Open Inference V2 requests.

``model.ServedModel`` is the inference core: a version's graph checked against the registry's
sha256 and fed request rows without pandas. The serving processes import this package, never
the facade, DuckDB or MLflow: they reach the owner through the workspace endpoint (engine/host).
"""
