"""What monitoring hands back to faces: a drift check's verdicts, per column and overall, and
alerts."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, cast


@dataclass(frozen=True)
class ColumnDrift:
    """One column's test: Evidently's name for it, the statistic (a p value for ks, chisquare
    and z, a distance otherwise), the threshold and the verdict."""

    method: str
    statistic: float
    threshold: float
    drifted: bool
    kind: str  # number or category, as Evidently infers it from the current data
    reference_rows: int  # values tested, nulls and infinities dropped
    current_rows: int


SCORE_BINS = 10


@dataclass(frozen=True)
class ScoreHistogram:
    """The positive class's scores in ``SCORE_BINS`` equal bins of [0, 1], each side's share of
    its rows per bin: the reference (the model on its own training data) against the live
    window; what the console's score-distribution panel draws."""

    reference: list[float]
    current: list[float]
    reference_rows: int
    current_rows: int


@dataclass(frozen=True)
class DriftReport:
    """A drift check of ``current`` against ``reference``; ``skipped`` names the columns not
    tested and why (times, ids, text, no values). Prediction and target drift are reported
    beside the columns and do not count toward the dataset's drift share."""

    reference: str
    current: str
    dataset_drift: bool
    drift_share: float  # the share of drifted columns that means the dataset drifted (0.5)
    share_drifted: float
    drifted_count: int
    columns: dict[str, ColumnDrift]
    skipped: dict[str, str]
    seconds: float
    html: str | None = None  # where Evidently's own report was written, if asked for
    prediction: ColumnDrift | None = None  # the scores' drift, where both sides have scores
    target: ColumnDrift | None = None  # the true labels' drift, where both sides have labels
    scores: ScoreHistogram | None = None  # the scores' distributions, where both sides have scores

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Alert:
    """Something a monitor raised: open until acknowledged; ``repeats`` counts the times it
    was raised again within the cool-down."""

    id: int
    raised_at: str
    source: str
    severity: str  # info, warning, critical
    message: str
    data: dict[str, Any]
    repeats: int
    status: str  # open, acknowledged
    acknowledged_at: str | None
    acknowledged_by: str | None
    last_seen_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EstimatedMetrics:
    """A window's metrics expected from its calibrated scores alone (CBPE): no labels needed."""

    accuracy: float
    precision: float
    recall: float
    f1: float
    roc_auc: float | None  # None: fewer than two rows, or one class expected throughout


@dataclass(frozen=True)
class WindowMetrics:
    """One variant's predictions in one window of event time: how the labelled ones scored
    (None where the window cannot say: no labels yet, or AUC without both classes) and what
    the scores of all of them let one expect (``estimated``; None where the model's scores
    could not be calibrated)."""

    variant: str
    model: str
    version: int
    window_start: str
    window_end: str
    predictions: int
    labelled: int
    accuracy: float | None
    precision: float | None
    recall: float | None
    f1: float | None
    roc_auc: float | None
    estimated: EstimatedMetrics | None = None

    def value(self, metric: str, estimated: bool = False) -> float | None:
        """``metric`` as realised from the labels, or as estimated from the scores."""
        source: object = self.estimated if estimated else self
        return None if source is None else cast("float | None", getattr(source, metric))


@dataclass(frozen=True)
class AccuracyCheck:
    """A variant's window against its model's evaluation: ``floor`` is the evaluation's value
    minus the tolerance; ``below`` is None until the window holds ``min_labelled`` rows. A
    realised check takes the newest window with that many labels and ``labelled`` counts them;
    an estimated one (``estimated``) takes the newest window and counts its predictions."""

    variant: str
    model: str
    version: int
    metric: str
    value: float | None
    baseline: float | None  # the model's evaluation on its held-out rows
    floor: float | None
    labelled: int
    below: bool | None
    alert_id: int | None
    estimated: bool = False
    window_end: str | None = None  # the window checked


@dataclass(frozen=True)
class AccuracyReport:
    endpoint: str
    window: str
    windows: list[WindowMetrics]  # oldest first, every variant
    checks: list[AccuracyCheck]  # the newest window of each variant

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class JobRun:
    """One run of a scheduled job: how it was started, how long it took, how it ended and what
    its monitor found."""

    id: int
    job: str
    trigger: str  # schedule, manual
    started_at: str
    finished_at: str | None
    seconds: float | None
    status: str  # running, ok, failed
    error: str | None
    summary: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class JobInfo:
    """A job as `mlops jobs list` shows it: its schedule, whether it is paused, when it runs next
    (None: paused, or no scheduler runs in the owner) and its last run."""

    name: str
    schedule: str
    paused: bool
    next_run_at: str | None
    last_run: JobRun | None
    scheduling: bool  # whether the owner runs the scheduler (mlops up, serve, the console)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LoopStep:
    """One step of a turn of the automatic loop, with what it rests on (``evidence``: a data
    version and its row counts, a pipeline run and its gate verdicts, a canary comparison)."""

    step: str  # trigger, policy, data, retrain, canary, compare, promote, rollback
    status: str  # ok, failed, skipped, waiting
    detail: str
    evidence: dict[str, Any]
    happened_at: str


@dataclass(frozen=True)
class LoopRun:
    """A turn of the automatic loop: what started it, the champion and the challenger it
    trained, and how it ended (running, canary, promoted, rolled_back, failed, skipped)."""

    id: int
    started_at: str
    finished_at: str | None
    trigger: str
    endpoint: str
    model: str
    champion_version: int | None
    challenger_version: int | None
    outcome: str
    reason: str | None
    steps: list[LoopStep]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DriftCheckRecord:
    """A scheduled drift check as kept (``drift_checks``): when, which endpoint, and per column
    (and for the predictions, as ``"(prediction)"``) the method, statistic, threshold and
    verdict; what the console's drift panel and its sparklines read."""

    checked_at: str
    endpoint: str
    reference: str
    current: str
    dataset_drift: bool
    share_drifted: float
    columns: dict[str, ColumnDrift]
    skipped: dict[str, str]
    scores: ScoreHistogram | None = None


@dataclass(frozen=True)
class AccuracyRecord:
    """A scheduled accuracy check's figures for one variant, realised or estimated, with the
    metric it was checked on, that metric's value in the model's evaluation and the alert's
    floor (None in checks kept before they were recorded)."""

    checked_at: str
    endpoint: str
    variant: str
    model: str
    version: int
    estimated: bool
    window_end: str
    rows: int
    accuracy: float | None
    precision: float | None
    recall: float | None
    f1: float | None
    roc_auc: float | None
    metric: str | None = None
    baseline: float | None = None
    floor: float | None = None
