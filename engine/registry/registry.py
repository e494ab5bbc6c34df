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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.config import Config
from engine.data.datasets import Datasets
from engine.db import Database
from engine.errors import InvalidInput
from engine.evaluation.evaluator import Evaluation, Evaluator
from engine.events import EventLog
from engine.pipelines.champion import champion_score
from engine.pipelines.records import Verdict
from engine.progress import Progress, no_progress
from engine.registry.history import AliasHistory, AliasMove
from engine.registry.lookup import RegistryLookup
from engine.training import tracking
from engine.training.reproduce import request_from_run
from engine.training.run_filter import Run
from engine.training.runs import Runs
from engine.training.trainer import Trainer

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion

CHAMPION = "champion"


@dataclass(frozen=True)
class VersionSummary:
    model: str
    version: int
    run_id: str
    run_name: str
    dataset: str
    metrics: dict[str, float]
    aliases: list[str]
    onnx_sha256: str | None
    created_at: int  # ms since the epoch, as MLflow keeps it

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass(frozen=True)
class ModelSummary:
    name: str
    versions: list[VersionSummary]
    aliases: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "aliases": self.aliases, "versions": [v.to_dict() for v in self.versions]}


@dataclass(frozen=True)
class Promotion:
    model: str
    version: int
    alias: str
    promoted: bool
    verdicts: list[Verdict]
    move: AliasMove | None = None
    export: dict[str, Any] | None = None
    evaluation_id: int | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "alias": self.alias,
            "promoted": self.promoted,
            "verdicts": [v.to_dict() for v in self.verdicts],
            "move": self.move.to_dict() if self.move else None,
            "export": self.export,
            "evaluation_id": self.evaluation_id,
        }


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
        self.lookup = lookup
        self.history = AliasHistory(db)
        self._tracking_uri = tracking_uri
        self._config = config

    # -- versions ---------------------------------------------------------------------------

    def register(self, run_reference: str, name: str, tags: dict[str, str] | None = None) -> VersionSummary:
        """A new version of ``name`` (created if new) from a run's logged model."""
        from mlflow.exceptions import MlflowException

        run = self._runs.get(run_reference)
        run_id = run.attributes["run_id"]
        store = tracking.client(self._tracking_uri)
        if "mlops.model" not in run.tags or not any(a.path == "model" for a in store.list_artifacts(run_id)):
            raise InvalidInput(
                f"run {run.attributes['run_name']} has no logged model to register "
                "(a sweep logs the model of its best trial only)"
            )
        _check_model_name(name)
        try:
            store.get_registered_model(name)
        except MlflowException:
            store.create_registered_model(name)
        version = store.create_model_version(
            name,
            source=f"{store.get_run(run_id).info.artifact_uri}/model",
            run_id=run_id,
            tags={"mlops.dataset": _dataset(run), **(tags or {})},
        )
        self._events.record(
            "registry", name, f"version {version.version} registered from run {run.attributes['run_name']}"
        )
        return self._summary(version, {})

    def models(self) -> list[ModelSummary]:
        store = tracking.client(self._tracking_uri)
        return [self.model(model.name) for model in store.search_registered_models()]

    def model(self, name: str) -> ModelSummary:
        from mlflow.exceptions import MlflowException

        store = tracking.client(self._tracking_uri)
        try:
            registered = store.get_registered_model(name)
        except MlflowException:
            known = [m.name for m in store.search_registered_models()]
            listed = f"; registered models: {', '.join(known)}" if known else "; none is registered yet"
            raise InvalidInput(f"no registered model {name!r}{listed}") from None
        aliases = {alias: int(version) for alias, version in registered.aliases.items()}
        versions = store.search_model_versions(f"name = '{name}'")
        runs = {run.attributes["run_id"]: run for run in self._runs.search(limit=None)}
        summaries = [self._summary(v, aliases, runs) for v in versions if str(v.run_id) in runs]
        return ModelSummary(name, sorted(summaries, key=lambda s: s.version, reverse=True), aliases)

    def version(self, name: str, version: int) -> VersionSummary:
        summary = self.model(name)
        found = [v for v in summary.versions if v.version == version]
        if not found:
            numbers = ", ".join(str(v.version) for v in sorted(summary.versions, key=lambda s: s.version))
            raise InvalidInput(f"{name} has no version {version}; its versions are {numbers or 'none'}")
        return found[0]

    def _summary(
        self, version: ModelVersion, aliases: dict[str, int], runs: dict[str, Run] | None = None
    ) -> VersionSummary:
        run = runs[str(version.run_id)] if runs else self._runs.get(str(version.run_id))
        number = int(version.version)
        return VersionSummary(
            model=str(version.name),
            version=number,
            run_id=run.attributes["run_id"],
            run_name=run.attributes["run_name"],
            dataset=_dataset(run),
            metrics={
                k: v for k, v in run.metrics.items() if k in ("f1", "roc_auc", "accuracy", "eval.brier")
            },
            aliases=sorted(alias for alias, target in aliases.items() if target == number),
            onnx_sha256=self.onnx_sha256(str(version.name), number),
            created_at=int(version.creation_timestamp or 0),
        )

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
        verdicts = [
            self._data_verdict(run),
            self._metric_verdict(evaluation),
            self._fairness_verdict(evaluation),
            self._champion_verdict(name, summary, evaluation),
        ]
        return verdicts, evaluation

    def _data_verdict(self, run: Run) -> Verdict:
        ref = _dataset(run)
        check = "training data passed validation"
        status = self._datasets.resolve(ref).status
        if status == "passed":
            return Verdict(check, True, f"{ref} passed its suite")
        if status == "unvalidated":
            return Verdict(
                check, False, f"{ref} was never validated; run `mlops data validate {ref} --suite NAME`"
            )
        return Verdict(check, False, f"{ref} is {status}")

    def _metric_verdict(self, evaluation: Evaluation) -> Verdict:
        threshold = self._config.gates.min_f1
        f1 = evaluation.scores.metrics["f1"]
        relation = "≥" if f1 >= threshold else "<"
        return Verdict(
            f"f1 >= {threshold:g}", f1 >= threshold, f"held-out f1 {f1:.4f} {relation} {threshold:g}", f1
        )

    def _fairness_verdict(self, evaluation: Evaluation) -> Verdict:
        check = "fairness within bounds"
        judged = [item.attribute for item in evaluation.fairness if item.judged]
        if not judged:
            return Verdict(check, True, "no sensitive attribute with two groups large enough to judge")
        violations = evaluation.violations
        if violations:
            more = f" and {len(violations) - 2} more" if len(violations) > 2 else ""
            return Verdict(check, False, "; ".join(violations[:2]) + more)
        return Verdict(check, True, f"no violation across {', '.join(judged)}")

    def _champion_verdict(self, name: str, summary: VersionSummary, evaluation: Evaluation) -> Verdict:
        margin = self._config.gates.champion_margin
        check = f"beats {name}@{CHAMPION}" + (f" by {margin:g}" if margin else "")
        champion = self.lookup.alias(name, CHAMPION)
        f1 = evaluation.scores.metrics["f1"]
        if champion is None:
            return Verdict(check, True, f"{name} has no {CHAMPION} yet", f1)
        if champion.version == summary.version:
            return Verdict(check, True, f"v{summary.version} is the {CHAMPION} itself", f1)
        try:
            score = champion_score(
                champion.run_id,
                summary.run_id,
                "f1",
                self._runs,
                self._datasets,
                self._trainer,
                self._tracking_uri,
            )
        except InvalidInput as error:
            return Verdict(check, False, f"v{champion.version} cannot be scored on the same rows: {error}")
        passed = f1 >= score + margin
        relation = "beats" if passed else "does not beat"
        return Verdict(
            check,
            passed,
            f"f1 {f1:.4f} {relation} v{champion.version}'s {score:.4f}"
            + (f" + {margin:g}" if margin else "")
            + " on the same held-out rows",
            f1,
        )

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
        current = self.lookup.alias(name, alias)
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
        move = self.history.record(
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
        stack = self.history.stack(name, alias)
        current = self.lookup.alias(name, alias)
        if current is None or len(stack) < 2 or stack[-1] != current.version:
            where = f"at v{current.version}" if current else "not set"
            raise InvalidInput(
                f"{name}@{alias} ({where}) has no earlier version to roll back to in its history"
            )
        previous = stack[-2]
        self.version(name, previous)  # still registered
        tracking.client(self._tracking_uri).set_registered_model_alias(name, alias, str(previous))
        move = self.history.record(
            name, alias, current.version, previous, "rollback", getpass.getuser(), reason, []
        )
        self._events.record("registry", name, f"@{alias} rolled back from v{current.version} to v{previous}")
        return move

    # -- exports --------------------------------------------------------------------------

    def export_onnx(self, name: str, version: int, summary: VersionSummary | None = None) -> dict[str, Any]:
        """Convert the version's model to ONNX, check parity on its held-out rows, store the file
        and its sha256 with the version; a parity failure raises with the figures."""
        from engine.registry.onnx_export import export_onnx

        summary = summary or self.version(name, version)
        run = self._runs.get(summary.run_id)
        data = self._trainer.prepare(request_from_run(run, self._datasets))
        pipeline = tracking.load_model(self._tracking_uri, summary.run_id)
        result = export_onnx(pipeline, data.x_test)
        folder = self._models_dir / name / f"v{version}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "model.onnx"
        path.write_bytes(result.onnx_bytes)
        parity = result.to_dict()
        with self._db.cursor() as cursor:
            cursor.execute(
                "INSERT OR REPLACE INTO model_exports (model, version, format, path, sha256, parity_json)"
                " VALUES (?, ?, 'onnx', ?, ?, ?)",
                [name, version, str(path), result.sha256, json.dumps(parity)],
            )
        tracking.client(self._tracking_uri).set_model_version_tag(
            name, str(version), "mlops.onnx_sha256", result.sha256
        )
        return {"path": str(path), **parity}

    def kserve_manifest(self, name: str, version: int, storage_uri: str | None = None) -> str:
        """A KServe InferenceService for the version's ONNX file (exported first if need be)."""
        from engine.registry.kserve import inference_service_manifest

        self.version(name, version)
        if storage_uri is None:
            with self._db.cursor() as cursor:
                row = cursor.execute(
                    "SELECT path FROM model_exports WHERE model = ? AND version = ? AND format = 'onnx'",
                    [name, version],
                ).fetchone()
            path = str(row[0]) if row else self.export_onnx(name, version)["path"]
            storage_uri = Path(path).parent.as_uri()
        settings = self._config.kserve
        return inference_service_manifest(
            name, version, storage_uri, settings, settings.canary_percent or None
        )

    def write_kserve_manifest(self, name: str, version: int) -> Path:
        """The manifest written next to the version's ONNX file, for a team to apply or adapt."""
        manifest = self.kserve_manifest(name, version)
        path = self._models_dir / name / f"v{version}" / "inferenceservice.yaml"
        path.write_text(manifest)
        self._events.record("registry", name, f"KServe manifest of v{version} written to {path}")
        return path


def _dataset(run: Run) -> str:
    return f"{run.tags.get('mlops.dataset', '?')}@v{run.tags.get('mlops.dataset_version', '?')}"


def _check_alias(alias: str) -> None:
    if not alias or not alias[0].isalpha() or not all(c.isalnum() or c in "_-" for c in alias):
        raise InvalidInput(f"--alias {alias!r}: expected a name like champion or challenger")
    if alias[0] == "v" and alias[1:].isdigit():
        raise InvalidInput(f"--alias {alias!r}: vN names a version, not an alias")


def _check_model_name(name: str) -> None:
    if not name or not name[0].isalpha() or not all(c.isalnum() or c in "_-." for c in name):
        raise InvalidInput(f"--name {name!r}: expected letters, digits, _, - or . starting with a letter")
