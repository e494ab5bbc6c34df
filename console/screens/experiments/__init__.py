"""Experiments: tracked runs (``runs_view``), pipeline runs with their DAG (``pipelines_view``),
the forms that start runs, sweeps and pipelines (``forms``), and runs side by side
(``compare``), put together by ``screen``."""

from console.screens.experiments.screen import ExperimentsScreen

__all__ = ["ExperimentsScreen"]
