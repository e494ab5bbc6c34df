"""What the demo needs of the engine: the facade's services, named as a protocol.

The demo sits between the facade and the services (the facade offers it as ``engine.demo``),
so it cannot import the facade; the engine hands itself over and this protocol says which of
its parts the demo uses.
"""

from __future__ import annotations

from typing import Protocol

from engine.config import Config
from engine.data.datasets import Datasets
from engine.data.feature_store import FeatureStore
from engine.data.quality import DataQuality
from engine.data.suite_store import Suites
from engine.evaluation.evaluator import Evaluator
from engine.events import EventLog
from engine.monitoring.alerts import Alerts
from engine.monitoring.loop import RetrainLoop
from engine.monitoring.monitors import Monitors
from engine.pipelines.runner import Pipelines
from engine.registry.registry import Registry
from engine.serving.control import ServerControl
from engine.serving.deployments import Deployments
from engine.serving.labels import Labels
from engine.serving.prediction_log import PredictionLog
from engine.serving.traffic import Traffic
from engine.training.runs import Runs
from engine.training.service import Training
from engine.types.workspace import Workspace, WorkspaceStatus


class DemoServices(Protocol):
    workspace: Workspace
    config: Config
    events: EventLog
    datasets: Datasets
    suites: Suites
    quality: DataQuality
    features: FeatureStore
    training: Training
    runs: Runs
    evaluation: Evaluator
    registry: Registry
    pipelines: Pipelines
    deployments: Deployments
    server: ServerControl
    predictions: PredictionLog
    labels: Labels
    traffic: Traffic
    alerts: Alerts
    monitors: Monitors
    loop: RetrainLoop

    def status(self) -> WorkspaceStatus: ...
