"""Evaluation: what a model's predictions are worth (metrics, curves, calibration, thresholds,
business impact) and how fairly it treats groups; see docs/evaluation.md."""
