"""Pipelines (the seed's Kubeflow pipeline): DAGs of load, validate, train, evaluate, gate and
register steps, with DVC-style caching of unchanged steps and a record of every run."""
