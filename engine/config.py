"""Workspace settings: ``.mlops/config.toml``.

The file written by ``mlops init`` is ``DEFAULT_CONFIG_TOML``: every setting with its default
and a comment saying what it does, so the file documents itself. Loading checks every key
and type, so a typo (``[gates] min_f = 0.7``) is an error naming the key instead of a
setting silently ignored.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import ConfigError

DEFAULT_CONFIG_TOML = """\
# mlops-console workspace settings. Every key is optional; these are the defaults.

[tracking]
# MLflow tracking URI. Empty means the workspace's own SQLite store (.mlops/mlflow.db with
# artifacts in .mlops/artifacts). Set "http://host:5000" to use a shared MLflow server
# (docs/registry.md, "Tracking on an MLflow server").
uri = ""

[serving]
# Where `mlops serve` listens (its --host and --port override these). Loopback by default:
# set "0.0.0.0" to take requests from other machines (they still need a bearer token).
host = "127.0.0.1"
port = 8080
# Serving processes sharing the port (--workers).
workers = 1
# A request body over this many bytes is refused with 413.
max_body_bytes = 1048576
# Whether /metrics needs a bearer token like the prediction routes (health routes never do).
metrics_need_token = false

[kserve]
# The KServe InferenceService exported for a model version's ONNX file (KServe's ONNX runtime,
# Open Inference Protocol v2), for when a model outgrows this machine.
namespace = "default"
# Replicas the predictor scales between; 0 as minimum lets an idle model scale to zero.
min_replicas = 1
max_replicas = 3
# Per-replica resources, as Kubernetes quantities.
cpu_request = "500m"
memory_request = "1Gi"
cpu_limit = "1"
memory_limit = "2Gi"
# Autoscaling: add replicas when the per-replica metric passes the target. One of
# "concurrency" (requests in flight), "rps" (requests per second), "cpu" or "memory" (percent).
scale_metric = "concurrency"
scale_target = 10
# Percent of traffic a newly deployed version gets while the previous one keeps the rest
# (canaryTrafficPercent); 0 sends all traffic to the new version at once.
canary_percent = 0

[gates]
# Promotion gates: a model version must reach these to become champion.
min_f1 = 0.7
# How much a challenger must beat the current champion by on the same holdout (f1 points; a
# negative margin lets a slightly worse one pass). The retrain loop's gate uses it too.
champion_margin = 0.0

[fairness]
# Columns whose groups are compared in evaluation.
sensitive_attributes = ["gender", "age_group", "region"]
# A demographic-parity ratio below this is a violation (the four-fifths rule).
min_ratio = 0.8
# A TPR/FPR/positive-rate difference above this is a violation.
max_difference = 0.1
# Groups with fewer rows are reported as too small to judge.
min_group_size = 30

[business]
# Cost of a churner the model missed (lost customer value).
cost_false_negative = 200.0
# Cost of a retention offer sent to a customer who would have stayed.
cost_false_positive = 20.0

[accuracy]
# Live accuracy from late labels (`mlops accuracy ENDPOINT`): windows of event time this long
# ("1d", "7d", ...); an alert when the newest window's metric ("accuracy", "precision",
# "recall", "f1" or "roc_auc") falls below the model's own evaluation minus the tolerance,
# once the window holds min_labelled labelled predictions.
window = "7d"
metric = "f1"
tolerance = 0.05
min_labelled = 100

[monitors]
# The scheduled monitors (`mlops up` and the console run them; `mlops jobs` lists them). Every
# N minutes, 0 to switch one off. Drift: each deployment's live traffic of the last
# drift_window against its primary model's training data; the data has drifted (an alert) when
# at least drift_share of its columns drift (Evidently's DataDriftPreset drift_share).
drift_minutes = 15
drift_window = "1h"
drift_share = 0.5
# Accuracy: each deployment's newest window of labelled traffic ([accuracy] above).
accuracy_minutes = 60
# Validation: dataset versions waiting for their dataset's required suite.
validation_minutes = 10
# Prediction-log retention: rows older than this many days are deleted, on this cron schedule.
log_retention_days = 90
retention_cron = "0 3 * * *"
# A run missed while nothing owned the workspace still runs if at most this late (seconds);
# several missed runs of one job run once.
misfire_grace_seconds = 600

[alerts]
# Where an alert goes besides the workspace (`mlops alerts list`): a log file (relative to
# .mlops/; "" for none), the owner's standard output (stderr for a command run with --json,
# whose stdout holds its one document), and a webhook that takes Slack's incoming-webhook
# JSON ({"text": ...}; "" for none). An owner delivers its alerts before it exits.
log_file = "alerts.log"
stdout = true
webhook_url = ""
# An alert whose key matches an open one raised within this many minutes is not raised again
# (its repeats are counted).
cooldown_minutes = 60.0
# A sink that fails is tried this many times in all, waiting retry_seconds, then twice that...
attempts = 3
retry_seconds = 1.0

[loop]
# The automatic retrain loop (docs/monitoring.md). On a trigger it re-runs the champion's
# pipeline on its training data plus the labelled production rows, registers the challenger if
# the gates pass, serves it as a canary and, after canary_requests requests or canary_minutes,
# promotes it or rolls it back. Triggers: "drift" (a dataset drift found by the drift monitor),
# "accuracy" (a realised or estimated metric below its floor), "schedule" (the retrain_cron).
enabled = false
triggers = ["drift", "accuracy", "schedule"]
retrain_cron = "0 6 * * 1"
# At least this many hours between two retrains of one endpoint, at most this many a day.
cooldown_hours = 24.0
max_retrains_per_day = 2
canary_percent = 10.0
canary_requests = 200
canary_minutes = 60.0
# Minutes between checks of a canary in progress.
canary_check_minutes = 5.0
# A canary is rolled back if its error rate is above the champion's by more than this, or if
# with labels its accuracy is worse with significance (mlops deploy compare's verdict).
max_error_rate_increase = 0.01

[console]
# Seconds between live refreshes of the console's panels.
refresh_seconds = 2.0
"""


@dataclass(frozen=True)
class TrackingConfig:
    uri: str = ""


@dataclass(frozen=True)
class ServingConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    max_body_bytes: int = 1 << 20
    metrics_need_token: bool = False


@dataclass(frozen=True)
class KServeConfig:
    namespace: str = "default"
    min_replicas: int = 1
    max_replicas: int = 3
    cpu_request: str = "500m"
    memory_request: str = "1Gi"
    cpu_limit: str = "1"
    memory_limit: str = "2Gi"
    scale_metric: str = "concurrency"
    scale_target: int = 10
    canary_percent: int = 0


@dataclass(frozen=True)
class GatesConfig:
    min_f1: float = 0.7
    champion_margin: float = 0.0


@dataclass(frozen=True)
class FairnessConfig:
    sensitive_attributes: list[str] = field(default_factory=lambda: ["gender", "age_group", "region"])
    min_ratio: float = 0.8
    max_difference: float = 0.1
    min_group_size: int = 30


@dataclass(frozen=True)
class BusinessConfig:
    cost_false_negative: float = 200.0
    cost_false_positive: float = 20.0


@dataclass(frozen=True)
class AccuracyConfig:
    window: str = "7d"
    metric: str = "f1"
    tolerance: float = 0.05
    min_labelled: int = 100


@dataclass(frozen=True)
class MonitorsConfig:
    drift_minutes: float = 15.0
    drift_window: str = "1h"
    drift_share: float = 0.5
    accuracy_minutes: float = 60.0
    validation_minutes: float = 10.0
    log_retention_days: float = 90.0
    retention_cron: str = "0 3 * * *"
    misfire_grace_seconds: int = 600

    def __post_init__(self) -> None:
        if not 0 < self.drift_share <= 1:
            raise ConfigError(
                f"[monitors] drift_share: {self.drift_share:g} is not a share; expected a number "
                "above 0 and at most 1 (0.5: half the columns)"
            )


LOOP_TRIGGERS = ("drift", "accuracy", "schedule")


@dataclass(frozen=True)
class LoopConfig:
    enabled: bool = False
    triggers: list[str] = field(default_factory=lambda: ["drift", "accuracy", "schedule"])
    retrain_cron: str = "0 6 * * 1"
    cooldown_hours: float = 24.0
    max_retrains_per_day: int = 2
    canary_percent: float = 10.0
    canary_requests: int = 200
    canary_minutes: float = 60.0
    canary_check_minutes: float = 5.0
    max_error_rate_increase: float = 0.01

    def __post_init__(self) -> None:
        unknown = [trigger for trigger in self.triggers if trigger not in LOOP_TRIGGERS]
        if unknown:
            raise ConfigError(
                f"[loop] triggers: {unknown[0]!r} is not a trigger; expected {', '.join(LOOP_TRIGGERS)}"
            )


@dataclass(frozen=True)
class AlertsConfig:
    log_file: str = "alerts.log"
    stdout: bool = True
    webhook_url: str = ""
    cooldown_minutes: float = 60.0
    attempts: int = 3
    retry_seconds: float = 1.0


@dataclass(frozen=True)
class ConsoleConfig:
    refresh_seconds: float = 2.0


@dataclass(frozen=True)
class Config:
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    serving: ServingConfig = field(default_factory=ServingConfig)
    kserve: KServeConfig = field(default_factory=KServeConfig)
    gates: GatesConfig = field(default_factory=GatesConfig)
    fairness: FairnessConfig = field(default_factory=FairnessConfig)
    business: BusinessConfig = field(default_factory=BusinessConfig)
    accuracy: AccuracyConfig = field(default_factory=AccuracyConfig)
    monitors: MonitorsConfig = field(default_factory=MonitorsConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    loop: LoopConfig = field(default_factory=LoopConfig)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)


RETIRED_SECTIONS = {"monitoring"}
"""Written by ``mlops init`` before any command read it: accepted (and unused) so workspaces made
then still open; the monitoring issue defines its settings afresh."""


def load_config(path: Path) -> Config:
    """Read and check ``config.toml``; a missing file means all defaults."""
    if not path.exists():
        return Config()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return parse_config(raw, source=str(path))


def parse_config(raw: dict[str, Any], source: str = "config") -> Config:
    """Build a ``Config`` from parsed TOML, naming the first wrong key and what it expected."""
    defaults = Config()
    known_sections = [f.name for f in dataclasses.fields(Config)]
    sections: dict[str, Any] = {}
    for name, value in raw.items():
        if name in RETIRED_SECTIONS:
            continue
        if name not in known_sections:
            raise ConfigError(
                f"{source}: unknown section [{name}]; expected one of {', '.join(sorted(known_sections))}"
            )
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: [{name}] must be a table of settings")
        sections[name] = _parse_section(name, value, getattr(defaults, name), source)
    config = dataclasses.replace(defaults, **sections)
    _check_tracking_uri(config.tracking.uri, source)
    return config


def _check_tracking_uri(uri: str, source: str) -> None:
    """A URI MLflow can use: a scheme, and a host for a server (``localhost:5000`` alone reads
    as a URI of scheme ``localhost`` and fails deep inside MLflow)."""
    from urllib.parse import urlsplit

    if not uri or uri == "databricks":  # MLflow's name for the default Databricks profile
        return
    expected = 'expected a URI such as "http://127.0.0.1:5000", or "" for the workspace\'s own store'
    parts = urlsplit(uri)
    if not parts.scheme or re.fullmatch(r"[^:/]+:\d+(/.*)?", uri):
        raise ConfigError(f"{source}: tracking.uri = {uri!r} has no scheme; {expected}")
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise ConfigError(f"{source}: tracking.uri = {uri!r} names no host; {expected}")


def _parse_section(name: str, values: dict[str, Any], defaults: Any, source: str) -> Any:
    known = {f.name: getattr(defaults, f.name) for f in dataclasses.fields(defaults)}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{source}: unknown setting {name}.{key}; expected one of {', '.join(known)}")
        expected = known[key]
        if not _same_kind(value, expected):
            raise ConfigError(
                f"{source}: {name}.{key} = {value!r} is a {type(value).__name__}; "
                f"expected a {type(expected).__name__} like {expected!r}"
            )
        if isinstance(expected, float):
            values = {**values, key: float(value)}
    return dataclasses.replace(defaults, **values)


def _same_kind(value: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool):
        return type(value) is type(expected)
    if isinstance(expected, float):
        return isinstance(value, (int, float))
    if isinstance(expected, list):
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, type(expected))
