"""Serving: registry versions' ONNX graphs answering KServe V1 and Open Inference V2 requests.

Two sides. The owner's: ``deployments.py`` (``engine.deployments``: what each endpoint serves,
resolved into a plan; ``comparison.py`` compares its variants), ``tokens.Tokens``
(``engine.tokens``), ``prediction_log.py`` and ``labels.py`` (``engine.predictions``,
``engine.labels``), ``control.py`` and ``processes.py`` (``engine.server``: the serving
processes started, watched and stopped) and ``traffic.py`` (``engine.traffic``: replayed
rows). The serving processes' (``worker.py``): the HTTP face (``app.py``, ``v2.py``,
``metrics.py``), the routing of rows to variants (``routing.py``), the inference core
(``model.ServedModel``: a version's graph checked against the registry's sha256, fed request
rows without pandas), the log rows handed over (``recorder.py``) and ``tokens.TokenCheck``.
Those import neither the facade nor DuckDB, pandas or MLflow: a serving process reaches the
owner through the workspace endpoint (engine/host) and reads only the ONNX files and tokens.
"""
