"""Messages the console's workers post; named in the past tense (they report what happened)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from engine.facade import Facade
    from engine.types.data import ColumnProfile, DatasetVersion, IngestResult, ValidationReport, VersionDiff
    from engine.types.demo import DemoReport
    from engine.types.evaluation import Evaluation
    from engine.types.features import ApplyResult, Materialization, OnlineFeatures
    from engine.types.monitoring import Alert, JobRun
    from engine.types.pipelines import PipelineRunRecord
    from engine.types.registry import AliasMove, OnnxExportRecord, Promotion, Verdict
    from engine.types.serving import Deployment, ServerState, TrafficReport
    from engine.types.training import Comparison, RunResult, SweepResult
    from engine.types.workspace import WorkspaceStatus


class EngineOpened(Message):
    """The workspace is open (its database, here) or attached to (in the process that owns it);
    screens may start asking the engine. ``took_over``: after the previous owner left."""

    def __init__(self, engine: Facade, took_over: bool = False) -> None:
        super().__init__()
        self.engine = engine
        self.took_over = took_over


class OwnerLeft(Message):
    """The process owning the workspace, which this console was attached to, stopped or died."""

    def __init__(self, pid: int) -> None:
        super().__init__()
        self.pid = pid


class ServerChanged(Message):
    """The inference server was started or stopped (in this console's engine or its owner)."""

    def __init__(self, state: ServerState) -> None:
        super().__init__()
        self.state = state


class LiveDataLoaded(Message):
    """A screen's periodic refresh finished: the status for the header and the screen's data."""

    def __init__(self, status: WorkspaceStatus, data: Any) -> None:
        super().__init__()
        self.status = status
        self.data = data


class FilterChanged(Message):
    """The text in a table's filter box changed."""

    def __init__(self, table_id: str, text: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.text = text


class VersionDetailsLoaded(Message):
    """A dataset version's profile and its newest validation report (None: never validated)."""

    def __init__(
        self,
        version: DatasetVersion,
        profiles: list[ColumnProfile],
        validation: ValidationReport | None,
    ) -> None:
        super().__init__()
        self.version = version
        self.profiles = profiles
        self.validation = validation


class RowsPageLoaded(Message):
    """One page of a dataset version's rows, fetched from DuckDB."""

    def __init__(self, ref: str, offset: int, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        super().__init__()
        self.ref = ref
        self.offset = offset
        self.columns = columns
        self.rows = rows


class WorkProgressed(Message):
    """Long work moved on: a stage description and how far along (0..1, None if unknown)."""

    def __init__(self, stage: str, fraction: float | None) -> None:
        super().__init__()
        self.stage = stage
        self.fraction = fraction


class DemoPartStarted(Message):
    """The demo running in this console began one of its parts (engine/demo STAGES)."""

    def __init__(self, part: str) -> None:
        super().__init__()
        self.part = part


class DemoProgressed(Message):
    """The demo running in this console moved on: what it is doing and how far along (0..1)."""

    def __init__(self, stage: str, fraction: float | None) -> None:
        super().__init__()
        self.stage = stage
        self.fraction = fraction


class DemoFinished(Message):
    """The demo running in this console finished: its report."""

    def __init__(self, report: DemoReport) -> None:
        super().__init__()
        self.report = report


class DatasetIngested(Message):
    def __init__(self, result: IngestResult) -> None:
        super().__init__()
        self.result = result


class DiffComputed(Message):
    def __init__(self, diff: VersionDiff) -> None:
        super().__init__()
        self.diff = diff


class VersionValidated(Message):
    """A dataset version was validated against a suite."""

    def __init__(self, ref: str, report: ValidationReport) -> None:
        super().__init__()
        self.ref = ref
        self.report = report


class SuiteRequired(Message):
    def __init__(self, dataset: str, suite: str) -> None:
        super().__init__()
        self.dataset = dataset
        self.suite = suite


class FeaturesApplied(Message):
    def __init__(self, result: ApplyResult) -> None:
        super().__init__()
        self.result = result


class FeaturesMaterialized(Message):
    def __init__(self, done: list[Materialization]) -> None:
        super().__init__()
        self.done = done


class OnlineFeaturesLoaded(Message):
    """One entity's online feature values came back from the online store."""

    def __init__(self, entity: dict[str, Any], found: OnlineFeatures) -> None:
        super().__init__()
        self.entity = entity
        self.found = found


class RunFinished(Message):
    """A training run started from the console finished and was logged."""

    def __init__(self, result: RunResult) -> None:
        super().__init__()
        self.result = result


class RunsCompared(Message):
    def __init__(self, comparison: Comparison) -> None:
        super().__init__()
        self.comparison = comparison


class SweepFinished(Message):
    def __init__(self, result: SweepResult) -> None:
        super().__init__()
        self.result = result


class PipelineFinished(Message):
    """A pipeline run ended (succeeded, or stopped at a failed step or gate)."""

    def __init__(self, record: PipelineRunRecord) -> None:
        super().__init__()
        self.record = record


class ModelGatesChecked(Message):
    """A version's promotion gates were evaluated (nothing moved yet)."""

    def __init__(self, name: str, version: int, alias: str, verdicts: list[Verdict]) -> None:
        super().__init__()
        self.name = name
        self.version = version
        self.alias = alias
        self.verdicts = verdicts


class ModelPromoted(Message):
    """A promotion finished: moved, or refused by its gates (``promotion.promoted``)."""

    def __init__(self, promotion: Promotion) -> None:
        super().__init__()
        self.promotion = promotion


class ModelRolledBack(Message):
    """An alias moved back one step."""

    def __init__(self, move: AliasMove) -> None:
        super().__init__()
        self.move = move


class ModelExported(Message):
    """A version was converted to ONNX and its parity checked."""

    def __init__(self, name: str, version: int, export: OnnxExportRecord) -> None:
        super().__init__()
        self.name = name
        self.version = version
        self.export = export


class EvaluationFinished(Message):
    """A run or alias was evaluated and the evaluation stored."""

    def __init__(self, evaluation: Evaluation) -> None:
        super().__init__()
        self.evaluation = evaluation


class KServeManifestWritten(Message):
    """A version's KServe InferenceService manifest was written to ``path``."""

    def __init__(self, name: str, version: int, path: Path) -> None:
        super().__init__()
        self.name = name
        self.version = version
        self.path = path


class JobRan(Message):
    """A scheduled job was run now, from the console; ``run`` is its recorded run."""

    def __init__(self, run: JobRun) -> None:
        super().__init__()
        self.run = run


class JobPaused(Message):
    """A job was paused: it stays off its schedule, across restarts, until resumed."""

    def __init__(self, job: str) -> None:
        super().__init__()
        self.job = job


class JobResumed(Message):
    """A paused job was put back on its schedule."""

    def __init__(self, job: str) -> None:
        super().__init__()
        self.job = job


class AlertAcknowledged(Message):
    """An alert was acknowledged: it leaves the open alerts, and its next occurrence is new."""

    def __init__(self, alert: Alert) -> None:
        super().__init__()
        self.alert = alert


class DriftChecked(Message):
    """The drift monitor ran now, from the console; ``summary`` is what it found."""

    def __init__(self, summary: str) -> None:
        super().__init__()
        self.summary = summary


class DriftReportWritten(Message):
    """Evidently's own HTML report of a drift check was written to ``path``."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path


class TestRequestAnswered(Message):
    """A test request sent from the console was answered (``status``, the answer's body)."""

    def __init__(self, endpoint: str, status: int, answer: dict[str, Any]) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.status = status
        self.answer = answer


class TrafficReplayed(Message):
    """A dataset's rows were replayed to an endpoint as requests."""

    def __init__(self, report: TrafficReport) -> None:
        super().__init__()
        self.report = report


class DeploymentChanged(Message):
    """A deployment was changed from the console (canary percent, switch, removal); ``said``
    is the sentence that says what changed."""

    def __init__(self, deployment: Deployment, said: str) -> None:
        super().__init__()
        self.deployment = deployment
        self.said = said


class FormChoicesLoaded(Message):
    """What a form offers was read: each dataset (and version) with its columns, and any other
    named lists of choices (``references``: the registered models' aliases and versions)."""

    def __init__(
        self,
        form: str,
        datasets: dict[str, tuple[str, ...]],
        choices: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        super().__init__()
        self.form = form
        self.datasets = datasets
        self.choices = choices or {}
