"""What serving hands back to faces: deployments, the plan the serving processes load, bearer
tokens (as listed, and one just made), the prediction log's batches and rows, late labels
joined, and the comparison of an endpoint's variants."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: never the token itself."""

    name: str
    created_at: str
    revoked_at: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "active": self.active}


@dataclass(frozen=True)
class IssuedToken:
    """A token just made: the only time its secret is shown."""

    name: str
    token: str
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Variant:
    """One model a deployment routes to: its role in the strategy and the registry reference it
    follows (``churn@champion`` follows the alias; ``churn@v3`` stays on version 3)."""

    role: str  # primary, canary, shadow, blue, green, a, b (deployments.py)
    reference: str


@dataclass(frozen=True)
class Deployment:
    """An endpoint as stored: what it routes to and how. ``revision`` grows with every change
    of any deployment, so a serving process knows when to reload."""

    endpoint: str
    strategy: str  # single, canary, shadow, bluegreen, ab
    variants: list[Variant]
    settings: dict[str, Any]
    revision: int
    created_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["created_at"] = self.created_at.isoformat()
        document["updated_at"] = self.updated_at.isoformat()
        return document


@dataclass(frozen=True)
class ServedVariant:
    """A variant resolved for serving: the version its reference names now and its ONNX file,
    with the sha256 the registry recorded (the serving process checks the file against it)."""

    role: str
    reference: str
    model: str
    version: int
    onnx_path: str
    sha256: str


@dataclass(frozen=True)
class ServedEndpoint:
    endpoint: str
    strategy: str
    variants: list[ServedVariant]
    settings: dict[str, Any]


@dataclass(frozen=True)
class ServingPlan:
    """Everything the serving processes serve, resolved at one revision."""

    revision: int
    endpoints: list[ServedEndpoint]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PredictionBatch:
    """Prediction-log rows as columns, one list per column of ``prediction_log``: what a serving
    process hands the owner every flush (plain lists cross cheaply and insert as one Arrow
    table). Times are seconds since the epoch; ``features`` is each row's JSON object."""

    logged_at: list[float]
    event_time: list[float]
    endpoint: list[str]
    variant: list[str | None]
    model: list[str | None]
    version: list[int | None]
    request_id: list[str]
    row: list[int | None]
    entity_key: list[str | None]
    entity: list[str | None]
    features: list[str | None]
    score: list[float | None]
    label: list[str | None]
    latency_ms: list[float]
    status: list[int]
    error: list[str | None]

    def __len__(self) -> int:
        return len(self.request_id)


@dataclass(frozen=True)
class LoggedPrediction:
    """One row of the prediction log, with its label if one has arrived."""

    logged_at: datetime
    event_time: datetime
    endpoint: str
    variant: str | None
    model: str | None
    version: int | None
    request_id: str
    row: int | None
    entity_key: str | None
    entity: str | None
    features: dict[str, Any] | None
    score: float | None
    label: str | None
    latency_ms: float
    status: int
    error: str | None
    truth: str | None

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["logged_at"] = self.logged_at.isoformat()
        document["event_time"] = self.event_time.isoformat()
        return document


@dataclass(frozen=True)
class LabelsIngested:
    """What ``mlops labels ingest`` did: labels read, those that found their prediction, the
    logged predictions they labelled (a request's shadow and every endpoint's prediction for the
    entity share its label; some replacing an earlier label), and labels left unmatched (no
    logged prediction for them yet)."""

    path: str
    joined_by: str  # "request id" or "customer_id + event_timestamp"
    rows: int
    matched: int
    predictions: int
    replaced: int
    unmatched: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Estimate:
    """A mean (a rate or a cost per prediction) with its 95% confidence interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class VariantOutcome:
    """One variant's live record: predictions served, those with labels, and on the labelled
    ones its accuracy and business cost per prediction (the evaluation's cost matrix)."""

    variant: str
    model: str
    version: int
    predictions: int
    labelled: int
    mean_score: float | None
    accuracy: Estimate | None
    cost_per_prediction: Estimate | None


@dataclass(frozen=True)
class Difference:
    """A test of one metric between two variants: the difference (second minus first), its p
    value, and whether it is distinguishable from noise at the 5% level."""

    metric: str
    test: str
    difference: float
    p_value: float
    significant: bool


@dataclass(frozen=True)
class ShadowAgreement:
    """How a shadow's answers compare with the primary's on the same requests."""

    pairs: int
    agreement: float  # share of rows with the same label
    mean_score_difference: float  # shadow minus primary
    mean_absolute_score_difference: float
    max_absolute_score_difference: float


@dataclass(frozen=True)
class Comparison:
    """``mlops deploy compare``: an endpoint's variants side by side on its logged traffic."""

    endpoint: str
    strategy: str
    variants: list[VariantOutcome]
    differences: list[Difference]
    shadow: ShadowAgreement | None
    verdict: str  # one plain sentence: which is better, or that the difference is still noise

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ServerState:
    """The inference server as its owner runs it: where it answers (None: not running)."""

    url: str | None
    workers: int
    pids: list[int]
    started_at: str | None

    @property
    def running(self) -> bool:
        return self.url is not None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "running": self.running}


@dataclass(frozen=True)
class TrafficReport:
    """What a replay sent: requests by status, how long it took, the rate it kept, and whether
    it was stopped before its rows or its duration ran out (``Traffic.stop``)."""

    endpoint: str
    dataset: str
    sent: int
    by_status: dict[str, int]
    failed: int  # no answer at all (connection refused, reset, timed out)
    seconds: float
    rate: float
    first_error: str | None
    stopped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrafficStats:
    """An endpoint's variant's requests over the last ``seconds``, in ``len(requests)`` equal
    steps, oldest first: requests per second, latency percentiles (ms) and the share of requests
    answered with an error (status 500 and above; a refusal of bad input is the client's)."""

    endpoint: str
    variant: str  # (none): refused before routing
    seconds: int
    requests_per_second: list[float]
    p50_ms: list[float | None]
    p95_ms: list[float | None]
    p99_ms: list[float | None]
    error_rate: list[float | None]
