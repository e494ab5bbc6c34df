"""A workspace's paths, who owns it, what it holds, and what happened in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

MLOPS_DIR_NAME = ".mlops"


@dataclass(frozen=True)
class Workspace:
    """The paths of one workspace; ``root`` is the directory that contains ``.mlops/``."""

    root: Path

    @property
    def mlops_dir(self) -> Path:
        return self.root / MLOPS_DIR_NAME

    @property
    def db_path(self) -> Path:
        return self.mlops_dir / "workspace.duckdb"

    @property
    def mlflow_db_path(self) -> Path:
        return self.mlops_dir / "mlflow.db"

    @property
    def artifacts_dir(self) -> Path:
        return self.mlops_dir / "artifacts"

    @property
    def models_dir(self) -> Path:
        """Exported model files (ONNX, KServe manifests), one folder per model and version."""
        return self.mlops_dir / "models"

    @property
    def config_path(self) -> Path:
        return self.mlops_dir / "config.toml"

    @property
    def default_token_path(self) -> Path:
        return self.mlops_dir / "token"

    @property
    def local_tracking_uri(self) -> str:
        """The MLflow URI of the workspace's own store, as `mlflow ui` takes it.

        The path goes in as it is: MLflow reads it raw (it creates the folder it names) while
        SQLAlchemy percent-decodes it, so no encoding suits both; that is why a workspace path
        may not hold ``%`` (engine/workspace.py)."""
        return f"sqlite:///{self.mlflow_db_path}"


@dataclass(frozen=True)
class OwnerInfo:
    """Who holds (or held) a workspace."""

    pid: int
    command: str
    started_at: str
    host: str

    def describe(self) -> str:
        return f"pid {self.pid} ({self.command})"


@dataclass(frozen=True)
class ClientInfo:
    """A process running a command through the workspace's owner (engine/host)."""

    pid: int
    command: str
    started_at: str


@dataclass(frozen=True)
class Counts:
    datasets: int
    runs: int | None  # None: kept on a remote MLflow server, not counted locally
    models: int | None
    deployments: int
    open_alerts: int


@dataclass(frozen=True)
class LiveState:
    """What changes by the second, for the console's header: each model's champion version
    (None: the registry is remote), where the inference server answers (None: stopped) and how
    many requests a second it answered lately, and the next scheduled job with its time."""

    champions: dict[str, int] | None
    server_url: str | None
    requests_per_second: float
    next_job: str | None
    next_job_at: str | None


@dataclass(frozen=True)
class WorkspaceStatus:
    path: str
    owner: OwnerInfo
    schema_version: int
    tracking_uri: str
    counts: Counts
    clients: list[ClientInfo] = field(default_factory=list)  # commands the owner runs for others
    live: LiveState | None = None


@dataclass(frozen=True)
class Event:
    """One line of the activity log: an ingest, a run, a promotion, an alert."""

    id: int
    occurred_at: datetime
    kind: str
    subject: str
    message: str
