"""The model registry: MLflow's registered models and versions, plus what MLflow lacks."""
