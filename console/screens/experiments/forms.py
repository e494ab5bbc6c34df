"""The Experiments screen's forms and what their answers become: a training request, a sweep
request, a pipeline to run. Text is read by the engine's own parsers (engine/types/training.py),
so a form and the matching ``mlops`` options accept the same input and refuse it alike."""

from __future__ import annotations

from pathlib import Path

from console.choices import DatasetColumns
from console.widgets.dialogs import Field
from engine.errors import InvalidInput
from engine.types.training import (
    ModelInfo,
    SweepRequest,
    TrainRequest,
    parse_columns,
    parse_grid,
    parse_params,
    parse_positive_class,
)

SAMPLE_PIPELINE = Path("sample_data") / "churn_pipeline.toml"
POSITIVE_CLASS = Field(
    "positive_class",
    "Positive class (optional for 0/1, no/yes, false/true labels)",
    required=False,
)


def _dataset_and_target(datasets: DatasetColumns) -> list[Field]:
    """The dataset as a choice of the stored ones, and the target as one of its columns."""
    return [
        Field(
            "dataset", "Dataset (NAME is its latest version)", choices=tuple(datasets), placeholder="choose"
        ),
        Field(
            "target",
            "Target column",
            follows="dataset",
            choices_for=datasets,
            placeholder="choose the dataset first",
        ),
    ]


def new_run_fields(models: list[ModelInfo], datasets: DatasetColumns) -> list[Field]:
    """The run's dataset, target, model and features, chosen; its parameters completed from the
    chosen model's own, each with its default."""
    return [
        *_dataset_and_target(datasets),
        Field("model", "Model", value="random_forest", choices=tuple(model.name for model in models)),
        Field(
            "features",
            "Features (optional, comma-separated; → completes a column)",
            required=False,
            follows="dataset",
            choices_for=datasets,
            typed=True,
            several=True,
        ),
        Field(
            "params",
            "Parameters (optional; → completes the model's own, with defaults)",
            required=False,
            follows="model",
            choices_for={model.name: _parameters(model) for model in models},
            typed=True,
            several=True,
        ),
        POSITIVE_CLASS,
    ]


def train_request(values: dict[str, str]) -> TrainRequest:
    return TrainRequest(
        values["dataset"],
        values["target"],
        values["model"],
        features=parse_columns(values["features"]),
        params=parse_params(values["params"].split(","), option="parameters"),
        positive_class=parse_positive_class(values["positive_class"]),
    )


def _parameters(model: ModelInfo) -> tuple[str, ...]:
    return tuple(f"{name}={value}" for name, value in model.defaults.items() if value is not None)


def sweep_fields(workers: int, models: list[ModelInfo], datasets: DatasetColumns) -> list[Field]:
    return [
        *_dataset_and_target(datasets),
        Field("model", "Model", value="random_forest", choices=tuple(model.name for model in models)),
        Field(
            "grid", "Grid (grid search)", placeholder="max_depth=5,10; n_estimators=100,200", required=False
        ),
        Field("trials", "Trials (random search, instead of a grid)", required=False),
        Field("workers", "Worker processes", value=str(workers)),
        POSITIVE_CLASS,
    ]


def sweep_request(values: dict[str, str]) -> SweepRequest:
    """The form's answers as a sweep; its grid is ``NAME=V1,V2`` items separated by ``;``."""
    return SweepRequest(
        TrainRequest(
            values["dataset"],
            values["target"],
            values["model"],
            positive_class=parse_positive_class(values["positive_class"]),
        ),
        grid=parse_grid(values["grid"].split(";"), option="grid"),
        trials=_whole_number(values["trials"], "trials") if values["trials"] else None,
        workers=_whole_number(values["workers"], "worker processes"),
    )


def pipeline_fields(last_path: str | None) -> list[Field]:
    sample = str(SAMPLE_PIPELINE) if SAMPLE_PIPELINE.is_file() else ""
    return [
        Field("path", "Pipeline file", value=last_path or sample, placeholder="path/to/pipeline.toml"),
        Field("force", "Ignore the cache and run every step? (yes/no)", value="no"),
    ]


def pipeline_choice(values: dict[str, str]) -> tuple[str, bool]:
    """The pipeline file and whether to ignore the cache."""
    force = values["force"].strip().lower()
    if force not in ("yes", "no", "y", "n"):
        raise InvalidInput(f"force {force!r}: expected yes or no")
    return values["path"], force.startswith("y")


def _whole_number(text: str, field: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"{field} {text!r}: expected a whole number") from None
