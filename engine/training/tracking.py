"""Writing runs to MLflow's store with the client API (no global "active run"), so runs can be
logged from worker threads and processes at once."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import TrackingUnreachable
from engine.identifiers import NAME_PATTERN

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

    from engine.types.workspace import Workspace

TRACKED_PACKAGES = ("scikit-learn", "pandas", "numpy", "mlflow", "duckdb", "skl2onnx", "onnxruntime")

SERVER_DEFAULTS = {
    # MLflow prints "🏃 View run ... at: URL" on stdout when a run on a server ends, which
    # would land in the middle of `mlops train --json`'s document.
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    # MLflow retries a failed request 7 times with doubling back-off (about four minutes) and
    # waits 120 s for each answer; a terminal tool should say what is wrong within seconds.
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}
"""Environment defaults for a tracking server; a value the user exported wins."""

CONNECT_TIMEOUT_SECONDS = 5.0
RECHECK_SECONDS = 30.0
_reached: dict[str, float] = {}
"""When each server URI last accepted a connection (monotonic clock)."""


def check_reachable(tracking_uri: str) -> None:
    """Fail at once, naming the URI, when a tracking server does not accept connections.

    MLflow itself would retry for minutes before failing with a long traceback. A TCP connect
    costs one round trip and no import; a server that answered in the last ``RECHECK_SECONDS``
    is not asked again. Local stores (``sqlite:``, ``file:``) are not checked.
    """
    from urllib.parse import urlsplit

    if not is_server(tracking_uri):
        return
    parts = urlsplit(tracking_uri)
    now = time.monotonic()
    if now - _reached.get(tracking_uri, -RECHECK_SECONDS) < RECHECK_SECONDS:
        return
    where = "the MLflow tracking server " + tracking_uri + " ([tracking] uri in .mlops/config.toml)"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TrackingUnreachable(f"{where} has no valid port") from None
    if not parts.hostname:
        raise TrackingUnreachable(f"{where} names no host")
    try:
        with socket.create_connection((parts.hostname, port), timeout=CONNECT_TIMEOUT_SECONDS):
            pass
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise TrackingUnreachable(f"{where} cannot be reached: {reason}") from None
    _reached[tracking_uri] = now


def client(tracking_uri: str) -> MlflowClient:
    """A client of the store. MLflow's info logs and its UserWarning hints (an ambiguous local
    dataset source, integer columns in a signature we already declare as doubles) are noise
    in a terminal tool, so they are silenced once here. A server URI is checked first
    (``check_reachable``)."""
    import logging
    import warnings

    check_reachable(tracking_uri)
    for variable, value in SERVER_DEFAULTS.items():
        os.environ.setdefault(variable, value)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    # tqdm bars of artifact downloads would write over the CLI's progress bar and the console.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # The cloudpickle caution is about loading models from others; ours are our own (trainer.py).
    logging.getLogger("mlflow.sklearn").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=UserWarning, module="mlflow")
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri)


def has_model(tracking_uri: str, run_id: str) -> bool:
    """Whether the run logged a model (a killed run, or a sweep trial other than the best, did not)."""
    return any(artifact.path == "model" for artifact in client(tracking_uri).list_artifacts(run_id))


def load_model(tracking_uri: str, run_id: str) -> Any:
    """The sklearn pipeline a run logged (training-side only: serving loads ONNX, DESIGN rule 5)."""
    import mlflow.sklearn

    store = client(tracking_uri)
    # Without a destination MLflow copies the model into a new temporary folder at every call
    # (from a server, and from the local store too: a ``runs:/`` download) and never removes
    # it; a long-lived owner loads models at every promotion, evaluation and champion check.
    with tempfile.TemporaryDirectory(prefix="mlops-model-") as scratch:
        return mlflow.sklearn.load_model(store.download_artifacts(run_id, "model", scratch))


def is_server(tracking_uri: str) -> bool:
    """Whether the tracking URI names a server (``http(s)://``) rather than a local store."""
    return tracking_uri.split(":", 1)[0].lower() in ("http", "https")


def experiment_id(mlflow: MlflowClient, name: str, workspace: Workspace, local_store: bool) -> str:
    """The experiment's id, creating it (artifacts under the workspace when the store is local)."""
    existing = mlflow.get_experiment_by_name(name)
    if existing is not None:
        return str(existing.experiment_id)
    location = (workspace.artifacts_dir / experiment_folder(name)).as_uri() if local_store else None
    return str(mlflow.create_experiment(name, artifact_location=location))


def experiment_folder(name: str) -> str:
    """The folder under the workspace's artifacts that holds an experiment's runs.

    An experiment name is free text to MLflow ("team/churn v2"), so it never becomes a path as
    it is: ``/elsewhere/x`` or ``../../x`` would put models (which are unpickled later) outside
    the workspace. A name that is a plain name keeps its folder name, so folders stay readable;
    any other gets a folder named by its digest.
    """
    if NAME_PATTERN.match(name):
        return name
    return "experiment-" + hashlib.sha256(name.encode()).hexdigest()[:16]


def git_commit(directory: Path) -> str | None:
    """The commit of the repository holding ``directory``, if it is in one."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def package_versions(packages: tuple[str, ...] = TRACKED_PACKAGES) -> dict[str, str]:
    """Python's version and each installed package's (absent packages are left out)."""
    versions = {"python": sys.version.split()[0]}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions
