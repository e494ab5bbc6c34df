"""Datasets: the catalogue of versions (``screen``), one version's profile, rows and validation
(``version_details``), and the diff of two versions (``diff``)."""

from console.screens.datasets.screen import DatasetsScreen

__all__ = ["DatasetsScreen"]
