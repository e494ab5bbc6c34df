"""What forms offer to choose from, read from the engine in a worker before a form opens (the
engine may be another process, and a form must not wait on it)."""

from __future__ import annotations

from engine.facade import Facade

DatasetColumns = dict[str, tuple[str, ...]]
"""Each dataset a form can name (``NAME``: its latest version, and every ``NAME@vN``) with
its columns."""


def dataset_columns(engine: Facade) -> DatasetColumns:
    found: DatasetColumns = {}
    for summary in engine.datasets.summaries():
        found[summary.name] = tuple(name for name, _ in summary.latest.schema)
        for version in engine.datasets.versions(summary.name):
            found[version.ref] = tuple(name for name, _ in version.schema)
    return found


def model_references(engine: Facade) -> tuple[str, ...]:
    """Each registered model's aliases, then its versions, as references (``NAME@ALIAS``,
    ``NAME@vN``): what a deployment or an evaluation names."""
    found: list[str] = []
    for model in engine.registry.models():
        found += [f"{model.name}@{alias}" for alias in sorted(model.aliases)]
        found += [f"{model.name}@v{version.version}" for version in model.versions]
    return tuple(found)
