"""Training a catalogue model on a dataset version, tracked in MLflow with full lineage.

One run: refuse bad input before anything heavy is imported (checks.py), refuse data that
failed validation, load the columns from DuckDB (joining feature views point-in-time when
asked), split, fit the pipeline, score the held-out rows, then log to MLflow in batches:
params, metrics, tags for reproducibility (the positive class included, labels.py), the
dataset as an input with its content hash as digest, the model (signature and input example),
the figures and the split's row ids. The workspace records which run used which version.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.data.datasets import Datasets
from engine.data.feature_store import FeatureStore
from engine.data.quality import DataQuality
from engine.db import Database
from engine.errors import InvalidInput
from engine.events import EventLog
from engine.identifiers import quote
from engine.training import figures, tracking, warm
from engine.training.catalogue import model_spec
from engine.training.checks import check_request, check_target
from engine.training.inputs import model_input
from engine.training.labels import label_text
from engine.training.metrics import classification_metrics
from engine.training.split import check_split, split_rows
from engine.types.data import DatasetVersion
from engine.types.progress import Progress, no_progress
from engine.types.training import POSITIVE_CLASS_TAG, RunResult, TrainRequest
from engine.types.workspace import Workspace

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

ROW_ID = "__row_id"


@dataclass(frozen=True)
class PreparedData:
    """A version's rows for one training, split; picklable, so sweep workers get it whole."""

    version: DatasetVersion
    frame: pd.DataFrame
    features: list[str]
    target: str
    train_rows: np.ndarray
    test_rows: np.ndarray
    positive_class: Any | None  # the binary target's positive label (labels.py); None: more classes

    @property
    def x_train(self) -> pd.DataFrame:
        return self.frame.iloc[self.train_rows][self.features]

    @property
    def y_train(self) -> pd.Series:
        return self.frame.iloc[self.train_rows][self.target]

    @property
    def x_test(self) -> pd.DataFrame:
        return self.frame.iloc[self.test_rows][self.features]

    @property
    def y_test(self) -> pd.Series:
        return self.frame.iloc[self.test_rows][self.target]


@dataclass(frozen=True)
class FittedModel:
    pipeline: Any
    params: dict[str, Any]  # every parameter, defaults included
    metrics: dict[str, float]
    predicted: np.ndarray
    fit_seconds: float


def fit_and_score(model: str, params: dict[str, Any], data: PreparedData) -> FittedModel:
    """Fit a catalogue model on the training rows and score the held-out rows.

    A module-level function so a sweep can run it in worker processes (which never open the
    workspace database: everything they need is in ``data``).
    """
    spec = model_spec(model)
    numeric = [c for c in data.features if data.frame[c].dtype.kind in "biuf"]
    categorical = [c for c in data.features if c not in numeric]
    pipeline = spec.build(params, numeric, categorical)
    started = time.perf_counter()
    pipeline.fit(data.x_train, data.y_train)
    fit_seconds = time.perf_counter() - started
    x_test = data.x_test
    predicted = pipeline.predict(x_test)
    metrics = classification_metrics(
        data.y_test.to_numpy(),
        predicted,
        pipeline.predict_proba(x_test),
        list(pipeline.classes_),
        data.positive_class,
    )
    return FittedModel(pipeline, {**spec.defaults, **params}, metrics, predicted, fit_seconds)


class Trainer:
    def __init__(
        self,
        db: Database,
        events: EventLog,
        workspace: Workspace,
        tracking_uri: str,
        datasets: Datasets,
        quality: DataQuality,
        features: FeatureStore,
    ) -> None:
        self._db = db
        self._events = events
        self._workspace = workspace
        self.tracking_uri = tracking_uri
        self._datasets = datasets
        self._quality = quality
        self._features = features

    def train(self, request: TrainRequest, progress: Progress = no_progress) -> RunResult:
        started = time.perf_counter()
        data = self.prepare(request, progress)
        progress(f"fitting {request.model} on {len(data.train_rows):,} rows", 0.15)
        fitted = fit_and_score(request.model, model_spec(request.model).parse_params(request.params), data)
        progress("logging the run to MLflow", 0.75)
        run_id, run_name = self.log_run(request, data, fitted)
        self.record_lineage(data.version, run_id)
        self._events.record(
            "run", run_name, f"{request.model} on {data.version.ref}: f1 {fitted.metrics['f1']:.3f}"
        )
        progress(f"run {run_name} finished", 1.0)
        return RunResult(
            run_id,
            run_name,
            request.experiment,
            request.model,
            data.version.ref,
            data.version.content_hash,
            data.features,
            fitted.params,
            fitted.metrics,
            fitted.fit_seconds,
            time.perf_counter() - started,
            None if data.positive_class is None else label_text(data.positive_class),
        )

    def prepare(self, request: TrainRequest, progress: Progress = no_progress) -> PreparedData:
        """Everything up to fitting: the checks, the gate, the columns, the split.

        Whatever can be refused without scikit-learn (the request's values, the data's gate and
        columns, the target, the split's sizes) is refused before it and MLflow are imported,
        which takes seconds: a mistyped option is answered at once, and so is a tracking server
        that does not answer.
        """
        params = check_request(request)
        progress("checking the data", 0.02)
        version = self._quality.check_trainable(request.dataset)
        time_column = next((name for name, kind in version.schema if kind.startswith("TIMESTAMP")), None)
        frame, features = self._load(version, request, time_column)
        positive = check_target(frame, request.target, version.ref, request.positive_class)
        check_split(frame, request.target, request.split, request.test_size, time_column, version.ref)
        tracking.check_reachable(self.tracking_uri)  # before minutes of fitting, not after
        # A run started before the console's warm-up finished imports with collection paused
        # too (engine/training/warm.py): a full GC pass during the imports stalls the UI.
        warm.import_training_libraries()
        model_spec(request.model).check_params(params)
        progress(f"splitting {len(frame):,} rows", 0.1)
        train_rows, test_rows = split_rows(
            frame, request.target, request.split, request.test_size, request.seed, time_column
        )
        return PreparedData(version, frame, features, request.target, train_rows, test_rows, positive)

    def record_lineage(self, version: DatasetVersion, run_id: str) -> None:
        with self._db.cursor() as cursor:
            cursor.execute(
                "INSERT INTO dataset_lineage (name, version, run_id, role) VALUES (?, ?, ?, 'training')",
                [version.name, version.version, run_id],
            )

    def _load(
        self, version: DatasetVersion, request: TrainRequest, time_column: str | None
    ) -> tuple[pd.DataFrame, list[str]]:
        """The feature, target and time columns, with each row's id in the version; nullable
        numbers as floats (inputs.py)."""
        columns = [name for name, _ in version.schema]
        if request.target not in columns:
            raise InvalidInput(
                f"--target {request.target!r} is not a column of {version.ref}; it has {', '.join(columns)}"
            )
        features = (
            request.features if request.features is not None else self._default_features(version, request)
        )
        unknown = [name for name in features if name not in columns]
        if unknown:
            raise InvalidInput(f"--features: {unknown[0]!r} is not a column of {version.ref}")
        if request.target in features:
            raise InvalidInput(f"--features: the target {request.target!r} cannot also be a feature")
        if request.feature_views:
            frame = self._features.historical(version.ref, request.feature_views)
            frame[ROW_ID] = range(len(frame))  # retrieval keeps the entity rows' order
            features = features + [c for c in frame.columns if c not in columns and c != ROW_ID]
        else:
            wanted = dict.fromkeys([*features, request.target, *([time_column] if time_column else [])])
            selected = ", ".join(quote(c) for c in wanted)
            with self._db.cursor() as cursor:
                frame = cursor.execute(f"SELECT {selected}, rowid AS {ROW_ID} FROM {version.relation}").df()
        if not features:
            why = (
                "each column but the target is a timestamp or an identifier (all its values distinct)"
                if request.features is None
                else "--features names none"
            )
            raise InvalidInput(
                f"{version.ref} leaves no feature to train on: {why}; expected --features naming the"
                " columns to use"
            )
        return model_input(frame, features), features

    def _default_features(self, version: DatasetVersion, request: TrainRequest) -> list[str]:
        """Every column but the target, timestamps and identifiers (all values distinct)."""
        candidates = [
            name
            for name, kind in version.schema
            if name != request.target and not kind.startswith(("TIMESTAMP", "DATE")) and kind != "DOUBLE"
        ]
        with self._db.cursor() as cursor:
            distinct = (
                cursor.execute(
                    "SELECT "
                    + ", ".join(f"count(DISTINCT {quote(c)})" for c in candidates)
                    + f" FROM {version.relation}"
                ).fetchone()
                if candidates
                else ()
            )
        identifiers = {c for c, n in zip(candidates, distinct or (), strict=False) if n == version.row_count}
        return [
            name
            for name, kind in version.schema
            if name != request.target
            and not kind.startswith(("TIMESTAMP", "DATE"))
            and name not in identifiers
        ]

    def log_run(
        self,
        request: TrainRequest,
        data: PreparedData,
        fitted: FittedModel,
        parent_run_id: str | None = None,
        with_model: bool = True,
    ) -> tuple[str, str]:
        """Write one run to MLflow in batches; a sweep's trials pass their parent and skip the model."""
        from mlflow.data.pandas_dataset import from_pandas
        from mlflow.entities import DatasetInput, InputTag, Metric, Param, RunTag

        store = tracking.client(self.tracking_uri)
        experiment = self.experiment_id(request.experiment)
        version = data.version
        tags = {
            "mlops.model": request.model,
            "mlops.dataset": version.name,
            "mlops.dataset_version": str(version.version),
            "mlops.content_hash": version.content_hash,
            "mlops.target": request.target,
            "mlops.features": json.dumps(data.features),
            "mlops.feature_views": json.dumps(request.feature_views),
            "mlops.split": request.split,
            "mlops.test_size": str(request.test_size),
            "mlops.seed": str(request.seed),
            "mlops.packages": json.dumps(tracking.package_versions()),
            "mlops.rows_train": str(len(data.train_rows)),
            "mlops.rows_test": str(len(data.test_rows)),
        }
        if data.positive_class is not None:
            tags[POSITIVE_CLASS_TAG] = label_text(data.positive_class)
        if parent_run_id:
            tags["mlflow.parentRunId"] = parent_run_id
        commit = tracking.git_commit(self._workspace.root)
        if commit:
            tags["mlflow.source.git.commit"] = commit
        run = store.create_run(experiment, run_name=request.run_name, tags=tags)
        run_id = run.info.run_id
        try:
            now = int(time.time() * 1000)
            store.log_batch(
                run_id,
                metrics=[Metric(name, value, now, 0) for name, value in fitted.metrics.items()],
                params=[Param(name, str(value)) for name, value in fitted.params.items()],
                tags=[RunTag("mlops.fit_seconds", f"{fitted.fit_seconds:.3f}")],
            )
            dataset = from_pandas(
                data.frame.drop(columns=[ROW_ID]).head(0),
                # Versions made by a query or a feature retrieval come from the workspace itself.
                source=(
                    version.source_path
                    if version.source_path.startswith("/")
                    else str(self._workspace.db_path)
                ),
                targets=request.target,
                name=version.ref,
                digest=version.content_hash[:32],
            )
            store.log_inputs(
                run_id,
                [DatasetInput(dataset._to_mlflow_entity(), [InputTag("mlflow.data.context", "training")])],
            )
            if with_model:
                self.log_model(run_id, data, fitted)
        except BaseException:
            store.set_terminated(run_id, "FAILED")
            raise
        store.set_terminated(run_id, "FINISHED")
        return run_id, run.info.run_name

    def log_model(self, run_id: str, data: PreparedData, fitted: FittedModel) -> None:
        """The model (signature, input example), the figures and the split's row ids."""
        store = tracking.client(self.tracking_uri)
        with tempfile.TemporaryDirectory() as folder:
            self._write_artifacts(Path(folder), data, fitted)
            store.log_artifacts(run_id, folder)

    def experiment_id(self, name: str) -> str:
        store = tracking.client(self.tracking_uri)
        return tracking.experiment_id(store, name, self._workspace, self.tracking_uri.startswith("sqlite:"))

    def _write_artifacts(self, folder: Path, data: PreparedData, fitted: FittedModel) -> None:
        """A child process draws the figures (see figures.py) while this one saves the model."""
        with figures.FigureDrawing(self._figure_data(data, fitted), folder) as drawing:
            self._save_model(folder / "model", data, fitted)
            self._write_split(folder / "split.csv", data)
            drawing.wait()

    @staticmethod
    def _save_model(path: Path, data: PreparedData, fitted: FittedModel) -> None:
        import mlflow.sklearn
        from mlflow.models import infer_signature
        from mlflow.utils import environment

        # MLflow checks the requirements against the installed packages on every save, first
        # mapping every module of every installed distribution (1.4 s in each new process: a
        # command, each sweep worker). These requirements are read from the installed packages
        # themselves, so the check cannot find a mismatch: it is skipped.
        environment.warn_dependency_requirement_mismatches = _requirements_read_from_this_environment  # type: ignore[attr-defined]

        pipeline, x_test = fitted.pipeline, data.x_test
        # Integer columns are declared as doubles: a missing value at serving time arrives as NaN.
        example = x_test.head(5).astype(
            {c: "float64" for c in x_test.columns if x_test[c].dtype.kind in "iu"}
        )
        signature = infer_signature(example, pipeline.predict_proba(example))
        requirements = [
            f"{package}=={version}"
            for package, version in tracking.package_versions().items()
            if package in ("scikit-learn", "pandas", "numpy")
        ]
        # cloudpickle, chosen deliberately: the model is written and read only by this workspace's
        # own training-side tools (reproduce, ONNX export), serving never unpickles (it loads ONNX
        # checked against its sha256), and skops took ~3 s per forest here, much of it holding
        # the GIL while the console waited.
        mlflow.sklearn.save_model(
            pipeline,
            path,
            serialization_format="cloudpickle",
            signature=signature,
            input_example=example,
            pip_requirements=requirements,
        )

    @staticmethod
    def _write_split(path: Path, data: PreparedData) -> None:
        """Which rows of the version were trained on and which held out."""
        import numpy as np
        import pandas as pd

        row_ids = data.frame[ROW_ID].to_numpy()
        train_rows, test_rows = data.train_rows, data.test_rows
        pd.DataFrame(
            {
                "row_id": np.concatenate([row_ids[train_rows], row_ids[test_rows]]),
                "split": ["train"] * len(train_rows) + ["test"] * len(test_rows),
            }
        ).to_csv(path, index=False)

    @staticmethod
    def _figure_data(data: PreparedData, fitted: FittedModel) -> figures.FigureData:
        """The figures' numbers: the held-out confusion matrix and the feature importances."""
        pipeline, y_test = fitted.pipeline, data.y_test.to_numpy()
        labels = list(pipeline.classes_)  # every class, even one the held-out rows lack
        importance = figures.feature_importance(pipeline.named_steps["model"])
        if importance is not None:
            names = list(pipeline.named_steps["prepare"].get_feature_names_out())
        else:
            from sklearn.inspection import permutation_importance

            sample = data.x_test.head(2000)
            result = permutation_importance(
                pipeline, sample, y_test[: len(sample)], n_repeats=3, random_state=0
            )
            importance, names = result.importances_mean, data.features
        return figures.FigureData.from_predictions(y_test, fitted.predicted, labels, names, importance)


def _requirements_read_from_this_environment(model_requirements: list[str]) -> None:
    """Stands in for MLflow's requirement check (``Trainer._save_model`` says why)."""
