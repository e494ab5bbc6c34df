"""Messages the console's workers post; named in the past tense (they report what happened)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from engine.data.datasets import DatasetVersion, IngestResult
    from engine.data.diff import VersionDiff
    from engine.data.profile import ColumnProfile
    from engine.evaluation.evaluator import Evaluation
    from engine.facade import Engine
    from engine.pipelines.records import PipelineRunRecord, Verdict
    from engine.registry.history import AliasMove
    from engine.registry.registry import Promotion
    from engine.status import WorkspaceStatus
    from engine.training.runs import Comparison
    from engine.training.sweep import SweepResult
    from engine.training.trainer import RunResult


class EngineOpened(Message):
    """The workspace database is open and migrated; screens may start asking the engine."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine


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
    """A dataset version's profile and its newest validation report (suite, report) are ready."""

    def __init__(
        self,
        version: DatasetVersion,
        profiles: list[ColumnProfile],
        validation: tuple[str, dict[str, Any]] | None,
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


class DatasetIngested(Message):
    def __init__(self, result: IngestResult) -> None:
        super().__init__()
        self.result = result


class DiffComputed(Message):
    def __init__(self, diff: VersionDiff) -> None:
        super().__init__()
        self.diff = diff


class VersionValidated(Message):
    """A dataset version was validated against a suite; the report in its stored (dict) form."""

    def __init__(self, ref: str, suite: str, report: dict[str, Any]) -> None:
        super().__init__()
        self.ref = ref
        self.suite = suite
        self.report = report


class SuiteRequired(Message):
    def __init__(self, dataset: str, suite: str) -> None:
        super().__init__()
        self.dataset = dataset
        self.suite = suite


class FeaturesApplied(Message):
    def __init__(self, summary: str) -> None:
        super().__init__()
        self.summary = summary


class FeaturesMaterialized(Message):
    def __init__(self, views: int, rows_written: int) -> None:
        super().__init__()
        self.views = views
        self.rows_written = rows_written


class OnlineFeaturesLoaded(Message):
    """One entity's online feature values came back from the online store."""

    def __init__(self, entity: dict[str, Any], values: dict[str, Any]) -> None:
        super().__init__()
        self.entity = entity
        self.values = values


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

    def __init__(self, name: str, version: int, export: dict[str, Any]) -> None:
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
