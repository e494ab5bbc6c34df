"""The model registry: MLflow's registered models and versions, plus what MLflow lacks.

Versions live in MLflow's registry (so the stock UI and client see them); aliases are moved
only here, behind gates, and every move is recorded (engine/registry/history.py). Promotion
evaluates the version on its held-out rows and checks, in order: the training data passed
validation, the f1 threshold from ``[gates]``, the fairness bounds from ``[fairness]``, and the
challenger against the current champion on the same rows. A failed gate refuses the move
unless forced with a reason, which is recorded. Promotion to ``champion`` also converts the
model to ONNX and checks parity, so every champion has a verified ONNX file to serve.
"""

from __future__ import annotations

import getpass
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from engine.config import Config
from engine.data.datasets import Datasets
from engine.db import Database
from engine.errors import InvalidInput
from engine.evaluation.evaluator import Evaluator
from engine.events import EventLog
from engine.registry import gates
from engine.registry.history import AliasHistory
from engine.registry.lookup import RegistryLookup
from engine.training import tracking
from engine.training.labels import label_text, recorded_positive
from engine.training.reproduce import request_from_run
from engine.training.runs import Runs
from engine.training.trainer import Trainer
from engine.types.evaluation import Evaluation
from engine.types.progress import Progress, no_progress
from engine.types.registry import (
    CHAMPION,
    AliasMove,
    ModelSummary,
    OnnxExportRecord,
    Promotion,
    Verdict,
    VersionRef,
    VersionSummary,
)
from engine.types.training import Run

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion

VERSION_REFERENCE = re.compile(r"^(?P<name>[^@]+)@v(?P<version>\d+)$")


class Registry:
    def __init__(
        self,
        db: Database,
        events: EventLog,
        models_dir: Path,
        datasets: Datasets,
        trainer: Trainer,
        runs: Runs,
        evaluator: Evaluator,
        lookup: RegistryLookup,
        tracking_uri: str,
        config: Config,
    ) -> None:
        self._db = db
        self._events = events
        self._models_dir = models_dir
        self._datasets = datasets
        self._trainer = trainer
        self._runs = runs
        self._evaluator = evaluator
        self._lookup = lookup
        self._history = AliasHistory(db)
        self._tracking_uri = tracking_uri
        self._config = config
        self._champion = gates.ChampionScorer(runs, datasets, trainer, lookup, tracking_uri)

    # -- versions ---------------------------------------------------------------------------

    def register(self, run_reference: str, name: str, tags: dict[str, str] | None = None) -> VersionSummary:
        """A new version of ``name`` (created if new) from a run's logged model."""
        _check_model_name(name)
        run = self._runs.get(run_reference)
        run_id = run.run_id
        no_model = InvalidInput(
            f"run {run.run_name} has no logged model to register "
            "(a sweep logs the model of its best trial only)"
        )
        if "mlops.model" not in run.tags:  # known without MLflow: a typo costs no import
            raise no_model
        from mlflow.exceptions import MlflowException

        store = tracking.client(self._tracking_uri)
        if not tracking.has_model(self._tracking_uri, run_id):
            raise no_model
        try:
            store.get_registered_model(name)
        except MlflowException:
            store.create_registered_model(name)
        version = store.create_model_version(
            name,
            source=f"{store.get_run(run_id).info.artifact_uri}/model",
            run_id=run_id,
            tags={"mlops.dataset": run.dataset, **(tags or {})},
        )
        self._events.record("registry", name, f"version {version.version} registered from run {run.run_name}")
        return self._summary(version, {})

    def models(self) -> list[ModelSummary]:
        store = tracking.client(self._tracking_uri)
        return [self.model(model.name) for model in store.search_registered_models()]

    def model(self, name: str) -> ModelSummary:
        self._check_model_exists(name)
        store = tracking.client(self._tracking_uri)
        registered = store.get_registered_model(name)
        aliases = {alias: int(version) for alias, version in registered.aliases.items()}
        versions = store.search_model_versions(f"name = '{name}'")
        runs = {run.run_id: run for run in self._runs.search(limit=None)}
        summaries = [self._summary(v, aliases, runs) for v in versions if str(v.run_id) in runs]
        return ModelSummary(name, sorted(summaries, key=lambda s: s.version, reverse=True), aliases)

    def version(self, name: str, version: int) -> VersionSummary:
        self._check_model_exists(name)
        if not self._lookup.version_exists(name, version):
            numbers = ", ".join(str(number) for number in self._lookup.version_numbers(name))
            raise InvalidInput(f"{name} has no version {version}; its versions are {numbers or 'none'}")
        return next(v for v in self.model(name).versions if v.version == version)

    def _check_model_exists(self, name: str) -> None:
        """A one-line error for an unknown model, read without importing MLflow when the store
        is the workspace's own (a typo should not cost the seconds MLflow's import takes)."""
        if not self._lookup.model_exists(name):
            known = self._lookup.model_names()
            listed = f"; registered models: {', '.join(known)}" if known else "; none is registered yet"
            raise InvalidInput(f"no registered model {name!r}{listed}")

    def resolve(self, reference: str) -> VersionRef:
        """``NAME@vN`` or ``NAME@ALIAS`` (e.g. ``churn@champion``) as the version it names."""
        name, at, target = reference.partition("@")
        if not name or not at or not target:
            raise InvalidInput(f"{reference!r}: expected NAME@ALIAS or NAME@vN, e.g. churn@champion")
        numbered = VERSION_REFERENCE.match(reference)
        if numbered:
            summary = self.version(name, int(numbered["version"]))
            return VersionRef(name, summary.version, summary.run_id)
        found = self._lookup.alias(name, target)
        if found is None:
            if not self._lookup.model_exists(name):
                self.model(name)  # the error that lists the registered models
            raise InvalidInput(f"{name}@{target} is not set; see `mlops models show {name}`")
        return found

    def moves(self, name: str, alias: str | None = None) -> list[AliasMove]:
        """Every move of ``name``'s aliases (of one alias if named), oldest first."""
        if not self._lookup.model_exists(name):
            self.model(name)  # the error that lists the registered models
        return self._history.moves(name, alias)

    def _summary(
        self, version: ModelVersion, aliases: dict[str, int], runs: dict[str, Run] | None = None
    ) -> VersionSummary:
        run = runs[str(version.run_id)] if runs else self._runs.get(str(version.run_id))
        number = int(version.version)
        return VersionSummary(
            model=str(version.name),
            version=number,
            run_id=run.run_id,
            run_name=run.run_name,
            dataset=run.dataset,
            metrics={
                k: v for k, v in run.metrics.items() if k in ("f1", "roc_auc", "accuracy", "eval.brier")
            },
            aliases=sorted(alias for alias, target in aliases.items() if target == number),
            onnx_sha256=self.onnx_sha256(str(version.name), number),
            created_at=int(version.creation_timestamp or 0),
        )

    def onnx_file(self, name: str, version: int) -> tuple[str, str]:
        """The version's ONNX file and its recorded sha256, exported first if it has none."""
        with self._db.cursor() as cursor:
            row = cursor.execute(
                "SELECT path, sha256 FROM model_exports WHERE model = ? AND version = ? AND format = 'onnx'",
                [name, version],
            ).fetchone()
        if row is not None:
            return str(row[0]), str(row[1])
        record = self.export_onnx(name, version)
        return record.path, record.sha256

    def onnx_sha256(self, name: str, version: int) -> str | None:
        with self._db.cursor() as cursor:
            row = cursor.execute(
                "SELECT sha256 FROM model_exports WHERE model = ? AND version = ? AND format = 'onnx'",
                [name, version],
            ).fetchone()
        return str(row[0]) if row else None

    # -- gates and promotion --------------------------------------------------------------

    def gates(
        self, name: str, version: int, progress: Progress = no_progress
    ) -> tuple[list[Verdict], Evaluation]:
        """Each promotion gate's verdict for ``name`` version ``version``; changes nothing."""
        summary = self.version(name, version)
        run = self._runs.get(summary.run_id)
        progress("evaluating on the held-out rows", 0.1)
        evaluation = self._evaluator.evaluate(summary.run_id)
        progress("checking the gates", 0.6)
        settings = self._config.gates
        verdicts = [
            gates.data_verdict(run, self._datasets),
            gates.metric_verdict(evaluation, "f1", settings.min_f1),
            gates.fairness_verdict(evaluation),
            self._champion.verdict(
                name, summary.run_id, evaluation.scores.metrics["f1"], "f1", settings.champion_margin
            ),
        ]
        return verdicts, evaluation

    def promote(
        self,
        name: str,
        version: int,
        alias: str = CHAMPION,
        force: bool = False,
        reason: str | None = None,
        progress: Progress = no_progress,
    ) -> Promotion:
        """Move ``alias`` to ``version`` if every gate passes (or ``force`` with a ``reason``)."""
        _check_alias(alias)
        if force and not (reason and reason.strip()):
            raise InvalidInput('--force needs --reason "why the gates may be overridden"')
        current = self._lookup.alias(name, alias)
        summary = self.version(name, version)
        if current is not None and current.version == version:
            raise InvalidInput(f"{name}@{alias} is already version {version}")
        verdicts, evaluation = self.gates(name, version, progress)
        refused = [v for v in verdicts if not v.passed]
        if refused and not force:
            self._events.record(
                "registry", name, f"promotion of v{version} to @{alias} refused: {refused[0].detail}"
            )
            return Promotion(name, version, alias, False, verdicts, evaluation_id=evaluation.id)
        export = None
        if alias == CHAMPION:
            progress("converting to ONNX and checking parity", 0.75)
            export = self.export_onnx(name, version, summary)
        progress(f"moving {name}@{alias}", 0.95)
        tracking.client(self._tracking_uri).set_registered_model_alias(name, alias, str(version))
        action = "forced promote" if refused else "promote"
        move = self._history.record(
            name,
            alias,
            current.version if current else None,
            version,
            action,
            getpass.getuser(),
            reason,
            verdicts,
        )
        self._events.record("registry", name, f"@{alias} moved to v{version} ({action})")
        progress(f"{name}@{alias} is version {version}", 1.0)
        return Promotion(name, version, alias, True, verdicts, move, export, evaluation.id)

    def rollback(self, name: str, alias: str = CHAMPION, reason: str | None = None) -> AliasMove:
        """Move ``alias`` back to the version it pointed at before its latest promotion."""
        _check_alias(alias)
        stack = self._history.stack(name, alias)
        current = self._lookup.alias(name, alias)
        if current is None or len(stack) < 2 or stack[-1] != current.version:
            where = f"at v{current.version}" if current else "not set"
            raise InvalidInput(
                f"{name}@{alias} ({where}) has no earlier version to roll back to in its history"
            )
        previous = stack[-2]
        self.version(name, previous)  # still registered
        tracking.client(self._tracking_uri).set_registered_model_alias(name, alias, str(previous))
        move = self._history.record(
            name, alias, current.version, previous, "rollback", getpass.getuser(), reason, []
        )
        self._events.record("registry", name, f"@{alias} rolled back from v{current.version} to v{previous}")
        return move

    # -- exports --------------------------------------------------------------------------

    def export_onnx(self, name: str, version: int, summary: VersionSummary | None = None) -> OnnxExportRecord:
        """Convert the version's model to ONNX, check parity on its held-out rows, store the file
        and its sha256 with the version; a parity failure raises with the figures."""
        from engine.registry.onnx_export import export_onnx

        summary = summary or self.version(name, version)
        run = self._runs.get(summary.run_id)
        data = self._trainer.prepare(request_from_run(run, self._datasets))
        pipeline = tracking.load_model(self._tracking_uri, summary.run_id)
        positive = recorded_positive(list(pipeline.classes_), run.positive_class, run.run_name)
        result = export_onnx(pipeline, data.x_test, None if positive is None else label_text(positive))
        folder = self._models_dir / name / f"v{version}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "model.onnx"
        path.write_bytes(result.onnx_bytes)
        record = result.record(str(path))
        with self._db.cursor() as cursor:
            cursor.execute(
                "INSERT OR REPLACE INTO model_exports (model, version, format, path, sha256, parity_json)"
                " VALUES (?, ?, 'onnx', ?, ?, ?)",
                [name, version, str(path), result.sha256, json.dumps(record.to_dict())],
            )
        tracking.client(self._tracking_uri).set_model_version_tag(
            name, str(version), "mlops.onnx_sha256", result.sha256
        )
        return record

    def kserve_manifest(self, name: str, version: int, storage_uri: str | None = None) -> str:
        """A KServe InferenceService for the version's ONNX file (exported first if need be)."""
        from engine.registry.kserve import inference_service_manifest

        self.version(name, version)
        if storage_uri is None:
            storage_uri = Path(self.onnx_file(name, version)[0]).parent.as_uri()
        settings = self._config.kserve
        return inference_service_manifest(
            name, version, storage_uri, settings, settings.canary_percent or None
        )

    def write_kserve_manifest(
        self,
        name: str,
        version: int,
        destination: str | Path | None = None,
        storage_uri: str | None = None,
    ) -> Path:
        """The manifest written to ``destination`` (default: next to the version's ONNX file), for
        a team to apply or adapt."""
        manifest = self.kserve_manifest(name, version, storage_uri)
        path = (
            Path(destination).expanduser().resolve()
            if destination is not None
            else self._models_dir / name / f"v{version}" / "inferenceservice.yaml"
        )
        if not path.parent.is_dir():
            raise InvalidInput(f"--output folder {path.parent} does not exist")
        path.write_text(manifest)
        self._events.record("registry", name, f"KServe manifest of v{version} written to {path}")
        return path


def _check_alias(alias: str) -> None:
    if not alias or not alias[0].isalpha() or not all(c.isalnum() or c in "_-" for c in alias):
        raise InvalidInput(f"--alias {alias!r}: expected a name like champion or challenger")
    if alias[0] == "v" and alias[1:].isdigit():
        raise InvalidInput(f"--alias {alias!r}: vN names a version, not an alias")


def _check_model_name(name: str) -> None:
    if not name or not name[0].isalpha() or not all(c.isalnum() or c in "_-." for c in name):
        raise InvalidInput(f"--name {name!r}: expected letters, digits, _, - or . starting with a letter")
