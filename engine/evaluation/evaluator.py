"""``mlops eval``: a run's model (or the version behind a registered alias) scored on labelled rows.

By default the rows are the run's own held-out split, rebuilt from what the run recorded
(data version, split, seed); ``--dataset NAME@vN`` scores any labelled version instead, such
as a production week joined with its late labels. Rows without a label are skipped and
counted. The result (metrics, curves, calibration, thresholds, business impact, fairness) is
stored in the workspace and logged to the run: metrics under ``eval.`` and the whole report as
a JSON artifact.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.config import Config
from engine.data.datasets import Datasets
from engine.data.feature_store import FeatureStore
from engine.db import Database
from engine.errors import InvalidInput
from engine.evaluation.fairness import FairnessBounds, attribute_fairness
from engine.evaluation.scores import Costs, score
from engine.events import EventLog
from engine.identifiers import quote
from engine.training import tracking
from engine.training.inputs import model_input
from engine.training.labels import label_text, recorded_positive
from engine.training.reproduce import request_from_run
from engine.training.runs import Runs
from engine.training.trainer import ROW_ID, Trainer
from engine.types.data import DatasetVersion
from engine.types.evaluation import AttributeFairness, Evaluation, Scores
from engine.types.progress import Progress, no_progress
from engine.types.registry import VersionRef
from engine.types.training import Run

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

ALIAS_REFERENCE = re.compile(r"^(?P<name>[^@]+)@(?P<alias>(?!v\d+$)[A-Za-z][\w\-]*)$")

AliasResolver = Callable[[str, str], "VersionRef | None"]
"""The version ``MODEL@ALIAS`` points at (None: not set); the registry supplies it."""


class Evaluator:
    def __init__(
        self,
        db: Database,
        events: EventLog,
        datasets: Datasets,
        features: FeatureStore,
        trainer: Trainer,
        runs: Runs,
        resolve_alias: AliasResolver,
        tracking_uri: str,
        config: Config,
    ) -> None:
        self._db = db
        self._events = events
        self._datasets = datasets
        self._features = features
        self._trainer = trainer
        self._runs = runs
        self._resolve_alias = resolve_alias
        self._tracking_uri = tracking_uri
        self._config = config

    def evaluate(
        self, reference: str, dataset: str | None = None, log: bool = True, progress: Progress = no_progress
    ) -> Evaluation:
        """Score ``reference`` (a run, or ``MODEL@ALIAS``) on its held-out rows or on ``dataset``."""
        progress("finding the model", 0.02)
        run, subject = self._subject(reference)
        target = run.tags["mlops.target"]
        features = json.loads(run.tags["mlops.features"])
        chosen = None if dataset is None else self._datasets.resolve(dataset)
        if chosen is not None:
            _check_columns(chosen, run, target, features)
        self._check_has_model(run)  # asks MLflow: after the checks a typo fails without its import
        progress("loading the rows", 0.1)
        if chosen is None:
            version, frame = self._holdout(run)
            scope = "held-out rows"
        else:
            version, frame = chosen, self._all_rows(chosen, run, target, features)
            scope = "all labelled rows"
        sensitive = self._with_sensitive(frame, version)
        labelled = sensitive[sensitive[target].notna()]
        if labelled.empty:
            raise InvalidInput(f"{version.ref} has no rows with a label in {target!r}; nothing to score")
        progress("loading the model", 0.3)
        truth, probability = self._scored(run, subject, labelled, version, progress)
        costs = Costs(self._config.business.cost_false_negative, self._config.business.cost_false_positive)
        scores = score(truth, probability, costs)
        predicted = (probability >= 0.5).astype(int)
        bounds = FairnessBounds(
            self._config.fairness.min_ratio,
            self._config.fairness.max_difference,
            self._config.fairness.min_group_size,
        )
        fairness = [
            attribute_fairness(column, truth, predicted, labelled[column].astype(str).to_numpy(), bounds)
            for column in self._config.fairness.sensitive_attributes
            if column in labelled.columns
        ]
        progress("storing the evaluation", 0.9)
        evaluation = self._store(
            run, subject, version.ref, scope, len(labelled), len(sensitive) - len(labelled), scores, fairness
        )
        if log:
            self._log(evaluation, version)
        self._events.record(
            "evaluation",
            subject,
            f"on {version.ref} ({scope}): f1 {scores.metrics['f1']:.3f}, "
            f"{len(evaluation.violations)} fairness violations",
        )
        progress("evaluated", 1.0)
        return evaluation

    def recent(self, limit: int = 50, contains: str = "") -> list[Evaluation]:
        """Stored evaluations, newest first, whose subject or dataset holds ``contains``."""
        with self._db.cursor() as cursor:
            rows = cursor.execute(
                f"SELECT {STORED_COLUMNS} FROM evaluations"
                " WHERE (subject || ' ' || dataset) ILIKE '%' || ? || '%' ORDER BY id DESC LIMIT ?",
                [contains, limit],
            ).fetchall()
        return [_from_row(row) for row in rows]

    def get(self, evaluation_id: int) -> Evaluation:
        with self._db.cursor() as cursor:
            row = cursor.execute(
                f"SELECT {STORED_COLUMNS} FROM evaluations WHERE id = ?", [evaluation_id]
            ).fetchone()
        if row is None:
            raise InvalidInput(f"no evaluation {evaluation_id}")
        return _from_row(row)

    def holdout_scores(self, reference: str) -> tuple[np.ndarray, np.ndarray]:
        """The held-out rows of ``reference`` (a run, or ``MODEL@ALIAS``) as its model scores
        them: the truth (1 for the positive class) and the positive class's probability. What
        performance estimation calibrates the model's live scores on."""
        run, subject = self._subject(reference)
        self._check_has_model(run)
        version, frame = self._holdout(run)
        labelled = frame[frame[run.tags["mlops.target"]].notna()]
        if labelled.empty:
            raise InvalidInput(f"{subject} has no labelled held-out rows to calibrate its scores on")
        return self._scored(run, subject, labelled, version, no_progress)

    def _scored(
        self, run: Run, subject: str, labelled: pd.DataFrame, version: DatasetVersion, progress: Progress
    ) -> tuple[np.ndarray, np.ndarray]:
        """The truth (1: the run's positive class) and the positive class's probability of each
        labelled row, as the run's model scores it."""
        target = run.tags["mlops.target"]
        features = json.loads(run.tags["mlops.features"])
        model = tracking.load_model(self._tracking_uri, run.run_id)
        progress(f"scoring {len(labelled):,} rows", 0.5)
        classes = list(model.classes_)
        if len(classes) != 2:
            raise InvalidInput(
                f"{subject} predicts {len(classes)} classes; evaluation covers binary classifiers"
            )
        unknown = labelled[target][~labelled[target].isin(classes)]
        if len(unknown):
            raise InvalidInput(
                f"{version.ref}: {target!r} holds {label_text(unknown.iloc[0])!r}, a label {subject} never"
                f" learned; expected {' or '.join(repr(label_text(label)) for label in classes)}"
            )
        # The class the run scored as positive (labels.py): the business costs and fairness
        # rates are about the same class as the run's precision and recall.
        positive = recorded_positive(classes, run.positive_class, run.run_name)
        probability = model.predict_proba(model_input(labelled, features)[features])[
            :, classes.index(positive)
        ]
        return (labelled[target] == positive).astype(int).to_numpy(), probability

    def _subject(self, reference: str) -> tuple[Run, str]:
        match = ALIAS_REFERENCE.match(reference)
        if match is None:
            run = self._runs.get(reference)
            subject = f"run {run.run_name}"
        else:
            version = self._resolve_alias(match["name"], match["alias"])
            if version is None:
                raise InvalidInput(
                    f"no model version behind {reference!r}; expected MODEL@ALIAS with an alias that is set, "
                    "or a run id or name"
                )
            run = self._runs.get(version.run_id)
            subject = f"{reference} (v{version.version})"
        if "mlops.target" not in run.tags or "mlops.features" not in run.tags:
            raise InvalidInput(f"run {run.run_id} was not made by `mlops train`; nothing to evaluate")
        return run, subject

    def _check_has_model(self, run: Run) -> None:
        if not tracking.has_model(self._tracking_uri, run.run_id):
            raise InvalidInput(
                f"run {run.run_name} ({run.status.lower()}) has no logged model to evaluate"
                " (a run stopped before it finished, or a sweep trial other than the best)"
            )

    def _holdout(self, run: Run) -> tuple[DatasetVersion, pd.DataFrame]:
        request = request_from_run(run, self._datasets)
        data = self._trainer.prepare(request)
        return data.version, data.frame.iloc[data.test_rows]

    def _all_rows(self, version: DatasetVersion, run: Run, target: str, features: list[str]) -> pd.DataFrame:
        views = json.loads(run.tags.get("mlops.feature_views", "[]"))
        if views:
            frame = self._features.historical(version.ref, views)
            frame[ROW_ID] = range(len(frame))
        else:
            selected = ", ".join(quote(c) for c in dict.fromkeys([*features, target]))
            with self._db.cursor() as cursor:
                frame = cursor.execute(f"SELECT {selected}, rowid AS {ROW_ID} FROM {version.relation}").df()
        return frame

    def _with_sensitive(self, frame: pd.DataFrame, version: DatasetVersion) -> pd.DataFrame:
        """The rows with every configured sensitive column the version has, joined by row id."""
        columns = [name for name, _ in version.schema]
        wanted = [
            c for c in self._config.fairness.sensitive_attributes if c in columns and c not in frame.columns
        ]
        if not wanted:
            return frame
        selected = ", ".join(quote(c) for c in wanted)
        with self._db.cursor() as cursor:
            extra = cursor.execute(f"SELECT rowid AS {ROW_ID}, {selected} FROM {version.relation}").df()
        return frame.merge(extra, on=ROW_ID, how="left")

    def _store(
        self,
        run: Run,
        subject: str,
        dataset: str,
        scope: str,
        rows: int,
        unlabelled: int,
        scores: Scores,
        fairness: list[AttributeFairness],
    ) -> Evaluation:
        report = {"scores": scores.to_dict(), "fairness": [item.to_dict() for item in fairness]}
        with self._db.cursor() as cursor:
            row = cursor.execute(
                "INSERT INTO evaluations (run_id, subject, dataset, scope, rows, unlabelled_rows,"
                " metrics_json, report_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, created_at",
                [
                    run.run_id,
                    subject,
                    dataset,
                    scope,
                    rows,
                    unlabelled,
                    json.dumps(scores.metrics),
                    json.dumps(report, default=str),
                ],
            ).fetchone()
        assert row is not None
        return Evaluation(
            int(row[0]),
            run.run_id,
            subject,
            dataset,
            scope,
            rows,
            unlabelled,
            scores,
            fairness,
            row[1],
        )

    def _log(self, evaluation: Evaluation, version: DatasetVersion) -> None:
        """Metrics under ``eval.`` (``eval.NAME_vN.`` for another dataset) and the JSON report."""
        from mlflow.entities import Metric

        holdout = evaluation.scope == "held-out rows"
        prefix = "eval." if holdout else f"eval.{version.name}_v{version.version}."
        figures = {
            name: value
            for name, value in evaluation.gate_metrics().items()
            if value == value  # not NaN
        }
        store = tracking.client(self._tracking_uri)
        now = int(evaluation.created_at.timestamp() * 1000)
        store.log_batch(
            evaluation.run_id,
            metrics=[Metric(prefix + name, value, now, 0) for name, value in figures.items()],
        )
        name = "holdout" if holdout else f"{version.name}_v{version.version}"
        store.log_dict(evaluation.run_id, evaluation.to_dict(), f"evaluations/{name}.json")


STORED_COLUMNS = "id, run_id, subject, dataset, scope, rows, unlabelled_rows, report_json, created_at"


def _from_row(row: tuple[Any, ...]) -> Evaluation:
    """An evaluation as stored: its report holds the scores and the fairness tables whole."""
    report = json.loads(row[7])
    return Evaluation(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        Scores.from_dict(report["scores"]),
        [AttributeFairness.from_dict(item) for item in report["fairness"]],
        row[8],
    )


def _check_columns(version: DatasetVersion, run: Run, target: str, features: list[str]) -> None:
    """The version holds the target and, unless the features come from the feature store, every
    feature the model was trained on; read from the catalogue, before anything heavy loads."""
    columns = [name for name, _ in version.schema]
    if target not in columns:
        raise InvalidInput(
            f"{version.ref} has no column {target!r} (the target); evaluation needs labelled rows"
        )
    if json.loads(run.tags.get("mlops.feature_views", "[]")):
        return
    missing = [name for name in features if name not in columns]
    if missing:
        raise InvalidInput(
            f"{version.ref} lacks {', '.join(missing)}, which the model was trained on; "
            f"expected the columns {', '.join(features)}"
        )
