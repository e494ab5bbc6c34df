"""``Engine``: the one facade the console, the CLI and ``mlops up`` share.

Opening an engine makes this process the workspace's owner (the owner lock), opens the
DuckDB catalogue and brings its schema up to date. The services a face may call hang off the
engine as attributes; each offers one call per thing a user does and returns the plain types
of ``engine.types`` (or a pandas frame), never UI objects:

    engine.datasets    ingest, summaries, versions, resolve, profile, head, query, diff, export
    engine.suites      add, get, all
    engine.quality     validate, require, latest_report, infer
    engine.features    apply, views, historical, export_historical, materialize, online,
                       parse_entity
    engine.training    train, sweep, reproduce, catalogue
    engine.runs        search, get, compare, check_filter
    engine.evaluation  evaluate, recent, get
    engine.registry    register, models, model, version, resolve, moves, gates, promote,
                       rollback, export_onnx, kserve_manifest, write_kserve_manifest
    engine.pipelines   run, run_step, runs, get
    engine.events      recent
    engine.deployments deploy, all, get, remove, switch, compare, plan (what the inference
                       server serves)
    engine.tokens      create, all, revoke (serving's bearer tokens)
    engine.server      start, stop, state (the inference server, on demand)
    engine.predictions append, count, recent (the prediction log; serving processes append)
    engine.labels      ingest (late labels joined to logged predictions)
    engine.traffic     replay (a dataset's rows sent as requests)
    engine.alerts      raise_alert, all, acknowledge, deliveries
    engine.accuracy    check (live accuracy from late labels, against the evaluation)
    engine.monitors    run_all, drift, accuracy, validation, retention (each monitor once)
    engine.scheduler   jobs, run, pause, resume, history (the monitors on a schedule)
    engine.drift       check (data drift as Evidently decides it: datasets, models' training
                       data, live traffic)
    engine.demo        state, run (the whole lifecycle on the sample data: `mlops demo`)
    engine.status()

That list is ``SURFACE``: what a face may call. A face of a workspace another process owns gets
an ``AttachedEngine`` instead (``Engine.claim_or_attach``): the same services, each call run in
the owner (engine/host), so either is a ``Facade`` to the console. ``features.historical`` is
the one call that stays in-process: its pandas frame does not cross (``export_historical`` does).

Everything else in the engine is its own business: faces import only this module, the
types, the errors and the formatting helpers (import-linter contracts in pyproject.toml).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, cast

from engine.config import Config, load_config
from engine.data.datasets import Datasets
from engine.data.feature_store import FeatureStore
from engine.data.quality import DataQuality
from engine.data.suite_store import Suites
from engine.db import Database
from engine.demo import Demo, apply_settings
from engine.demo.marker import refuse as refuse_demo
from engine.demo.marker import report_path as demo_report_path
from engine.errors import InvalidInput, WorkspaceLocked
from engine.evaluation.evaluator import Evaluator
from engine.events import EventLog
from engine.host.client import protocol_mismatch, wait_for_owner
from engine.host.endpoint import read_endpoint
from engine.host.remote import Session
from engine.host.server import CommandRunner, Host
from engine.lock import OwnerLock
from engine.migrations import applied_versions, migrate
from engine.monitoring.accuracy import LiveAccuracy
from engine.monitoring.alerts import Alerts
from engine.monitoring.drift import Drift
from engine.monitoring.gauges import Gauges
from engine.monitoring.loop import RetrainLoop
from engine.monitoring.monitors import Monitors
from engine.monitoring.retrain_data import RetrainDataBuilder
from engine.monitoring.scheduler import Scheduler
from engine.monitoring.sources import ModelFacts
from engine.pipelines.definition import Pipeline
from engine.pipelines.records import PipelineRecords
from engine.pipelines.runner import Pipelines
from engine.pipelines.steps import StepContext
from engine.registry.gates import ChampionScorer
from engine.registry.lookup import RegistryLookup
from engine.registry.registry import Registry
from engine.serving.comparison import Costs
from engine.serving.control import ServerControl
from engine.serving.deployments import Deployments
from engine.serving.labels import Labels
from engine.serving.prediction_log import PredictionLog
from engine.serving.tokens import Tokens
from engine.serving.traffic import Traffic
from engine.shutdown import ShutdownGuard
from engine.status import champions, count_mlflow_store, count_workspace, recent_requests_per_second
from engine.tracking_store import create_local_store
from engine.training.runs import Runs
from engine.training.service import Training
from engine.training.trainer import Trainer
from engine.types.progress import Progress
from engine.types.serving import ServedEndpoint
from engine.types.training import ModelInfo
from engine.types.workspace import Counts, LiveState, Workspace, WorkspaceStatus
from engine.workspace import create_workspace_files, find_workspace, make_private

if TYPE_CHECKING:
    import numpy as np

SURFACE: dict[str, frozenset[str]] = {
    "datasets": frozenset(
        {"ingest", "summaries", "versions", "resolve", "profile", "head", "query", "diff", "export"}
    ),
    "suites": frozenset({"add", "get", "all"}),
    "quality": frozenset({"validate", "require", "latest_report", "infer"}),
    "features": frozenset({"apply", "views", "export_historical", "materialize", "online", "parse_entity"}),
    "training": frozenset({"train", "sweep", "reproduce", "catalogue"}),
    "runs": frozenset({"search", "get", "compare", "check_filter"}),
    "evaluation": frozenset({"evaluate", "recent", "get"}),
    "registry": frozenset(
        {
            "register",
            "models",
            "model",
            "version",
            "resolve",
            "moves",
            "gates",
            "promote",
            "rollback",
            "export_onnx",
            "kserve_manifest",
            "write_kserve_manifest",
        }
    ),
    "pipelines": frozenset({"run", "run_step", "runs", "get"}),
    "events": frozenset({"recent"}),
    "tokens": frozenset({"create", "all", "revoke"}),
    "deployments": frozenset(
        {"deploy", "all", "get", "remove", "switch", "compare", "shadow_agreement", "plan", "served"}
    ),
    "server": frozenset({"start", "stop", "state"}),
    "predictions": frozenset({"append", "count", "recent", "stats"}),
    "labels": frozenset({"ingest"}),
    "traffic": frozenset({"replay", "stop", "send"}),
    "drift": frozenset({"check"}),
    "alerts": frozenset({"raise_alert", "all", "acknowledge", "deliveries"}),
    "accuracy": frozenset({"check"}),
    "monitors": frozenset(
        {"run_all", "drift", "accuracy", "validation", "retention", "drift_checks", "accuracy_checks"}
    ),
    "gauges": frozenset({"exposition"}),
    "loop": frozenset({"run", "history", "advance"}),
    "scheduler": frozenset({"jobs", "run", "pause", "resume", "history"}),
}
"""Each service's calls a face may make, in this process or from another (``Engine._call``)."""


class Facade(Protocol):
    """What a face holds: the owner's ``Engine`` or an ``AttachedEngine`` relaying to it."""

    workspace: Workspace
    config: Config
    datasets: Datasets
    suites: Suites
    quality: DataQuality
    features: FeatureStore
    training: Training
    runs: Runs
    evaluation: Evaluator
    registry: Registry
    pipelines: Pipelines
    events: EventLog
    tokens: Tokens
    deployments: Deployments
    server: ServerControl
    predictions: PredictionLog
    labels: Labels
    traffic: Traffic
    drift: Drift
    alerts: Alerts
    accuracy: LiveAccuracy
    monitors: Monitors
    gauges: Gauges
    loop: RetrainLoop
    scheduler: Scheduler

    def status(self) -> WorkspaceStatus: ...

    def close(self) -> None: ...


ALERT_DELIVERY_SECONDS = 15.0
"""How long closing waits for the alerts raised to reach their sinks (retries included)."""


class Engine:
    """The engine of one workspace, owned by this process until ``close()``."""

    def __init__(
        self, workspace: Workspace, lock: OwnerLock, db: Database, config: Config, shutdown: ShutdownGuard
    ) -> None:
        self.workspace = workspace
        self.config = config
        self.events = EventLog(db)
        self.datasets = Datasets(db, self.events)
        self.suites = Suites(db, self.events)
        self.quality = DataQuality(db, self.events, self.datasets, self.suites)
        self.datasets.after_ingest = self.quality.validate_if_required
        self.features = FeatureStore(db, self.events, self.datasets)
        self._local_store = None if config.tracking.uri else workspace.mlflow_db_path
        self.runs = Runs(self.tracking_uri, self._local_store)
        self._trainer = Trainer(
            db, self.events, workspace, self.tracking_uri, self.datasets, self.quality, self.features
        )
        self.training = Training(self._trainer, self.runs, self.datasets)
        self._lookup = RegistryLookup(self.tracking_uri, self._local_store)
        self.evaluation = Evaluator(
            db,
            self.events,
            self.datasets,
            self.features,
            self._trainer,
            self.runs,
            self._lookup.alias,
            self.tracking_uri,
            config,
        )
        self.registry = Registry(
            db,
            self.events,
            workspace.models_dir,
            self.datasets,
            self._trainer,
            self.runs,
            self.evaluation,
            self._lookup,
            self.tracking_uri,
            config,
        )
        self.pipelines = Pipelines(PipelineRecords(db), self.events, self._step_context)
        self.tokens = Tokens(workspace)
        business = config.business
        costs = Costs(business.cost_false_negative, business.cost_false_positive)
        self.deployments = Deployments(db, self.events, self.registry, self.runs, costs)
        self.server = ServerControl(workspace, config.serving, lambda: self._host is not None)
        self.predictions = PredictionLog(db)
        self.labels = Labels(db, self.events)
        self.traffic = Traffic(
            self.datasets,
            lambda: self.server.state().url,
            lambda: self.deployments.wait_served(self.server.state().pids),
            lambda: workspace.default_token_path.read_text().strip(),
            self._entity_keys,
        )
        self.drift = Drift(db, self.datasets, self._model_data)
        self.alerts = Alerts(db, self.events, config.alerts, workspace.mlops_dir)
        self.accuracy = LiveAccuracy(
            db, self._served, self._model_figures, self._holdout_scores, self.alerts, config.accuracy
        )
        self.loop = RetrainLoop(
            db,
            config.loop,
            config.gates.champion_margin,
            RetrainDataBuilder(db, self.datasets, lambda version: self.loop.base_of(version)),
            self.quality,
            self.pipelines,
            self.runs,
            self.registry,
            self.deployments,
            self.alerts,
        )
        self.monitors = Monitors(
            db,
            self.deployments.plan,
            self.drift,
            self.accuracy,
            self.quality,
            self.alerts,
            self.loop,
            config.monitors,
        )
        self.gauges = Gauges(db)
        self.demo = Demo(self)
        self.scheduler = Scheduler(
            db, self.monitors, self.loop, config.monitors, config.loop, self.wait_for_warm_up
        )
        self._lock = lock
        self._db = db
        self._shutdown = shutdown
        self._host: Host | None = None
        shutdown.hand_over(self.close, self._interrupt_own_work)
        # What a process killed mid-work left behind, put right before anything reads it.
        self.quality.validate_pending()
        for run_id in self.runs.close_orphans():
            self.events.record("run", run_id, "marked failed: the process training it stopped")

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, *, command: str | None = None) -> Engine:
        """Own the workspace at ``path`` (or the one discovered from here) and open it.

        Raises ``WorkspaceLocked`` when another live process owns it.
        """
        return cls.claim(path, command=command).open()

    @classmethod
    def init(cls, directory: str | os.PathLike[str], *, command: str | None = None) -> tuple[Engine, bool]:
        """Create (or complete) a workspace in ``directory`` and open it.

        Returns the engine and whether the workspace is new. A new workspace also gets its
        MLflow store (a few seconds: MLflow's own schema migrations), so the stock
        ``mlflow ui`` reads it from the start.
        """
        workspace, created = create_workspace_files(Path(directory))
        engine = cls._open(workspace, command)
        try:
            if not engine.config.tracking.uri:
                create_local_store(workspace)
                make_private(workspace)
            if created:
                engine.events.record("workspace", str(workspace.root), "workspace created")
        except BaseException:
            engine.close()
            raise
        return engine, created

    @classmethod
    def open_demo(cls, directory: str | os.PathLike[str], *, command: str | None = None) -> Engine:
        """Create the workspace in ``directory`` if absent (as ``init``) and open it for the demo:
        a fresh one gets the demo's settings in its config.toml first (engine/demo/settings.py),
        then is opened again so every service runs with them. ``engine.demo.run`` refuses a
        workspace holding work of its own."""
        engine, _ = cls.init(directory, command=command)
        if engine.demo.state() != "fresh" or not apply_settings(engine.workspace):
            return engine
        root = engine.workspace.root
        engine.close()
        return cls.open(root, command=command)

    @classmethod
    def prepare_demo(cls, directory: str | os.PathLike[str], *, command: str | None = None) -> bool:
        """Make ``directory`` ready for a console to run the demo in (``mlops demo --console``):
        created if absent and given the demo's settings if new, then closed for the console to
        claim. A workspace whose demo finished is not even opened. Whether there is a demo to
        run; a workspace the demo cannot run in (work of its own, a demo interrupted) is refused
        with the one-line error ``mlops demo`` gives."""
        root = Path(directory).expanduser().resolve()
        if demo_report_path(Workspace(root)).is_file():
            return False
        with cls.open_demo(root, command=command) as engine:
            found = engine.demo.state()
            refuse_demo(found, engine.workspace, engine.status().counts)
            return found == "fresh"

    @classmethod
    def claim(cls, path: str | os.PathLike[str] | None = None, *, command: str | None = None) -> Claim:
        """Take ownership now and open the database later (``Claim.open``).

        The console claims before it starts, so a second owner fails with the one-line
        error at once, and opens DuckDB (~0.6 s with its import) after its first paint.
        """
        workspace = find_workspace(path)
        config = load_config(workspace.config_path)
        make_private(workspace)
        lock = OwnerLock(workspace.mlops_dir)
        shutdown = ShutdownGuard(lock.release)
        try:
            lock.acquire(command or _default_command())
        except BaseException:
            shutdown.disarm()
            raise
        return Claim(workspace, config, lock, shutdown)

    @staticmethod
    def locate(path: str | os.PathLike[str] | None = None) -> Workspace:
        """The workspace at ``path`` (or the one discovered from here), neither claimed nor
        opened: for a process that hands it to others (``mlops console --web`` checks it once
        and gives each browser session's console its absolute path)."""
        return find_workspace(path)

    @staticmethod
    def catalogue() -> list[ModelInfo]:
        """The models training can fit, with defaults and search spaces; needs no workspace."""
        return Training.catalogue()

    @staticmethod
    def export_pipeline(
        path: str | os.PathLike[str],
        output: str | os.PathLike[str] | None = None,
        *,
        image: str | None = None,
        workspace: str | None = None,
        pipeline_path: str | None = None,
        volume: str | None = None,
    ) -> dict[str, Any]:
        """A pipeline file as a Kubeflow Pipelines v2 spec (engine/pipelines/kfp_export.py);
        needs no workspace, and the ``kfp`` extra."""
        from engine.pipelines import kfp_export

        return kfp_export.export_kfp(
            path,
            output,
            image or kfp_export.DEFAULT_IMAGE,
            workspace or kfp_export.DEFAULT_WORKSPACE,
            pipeline_path,
            volume,
        )

    @staticmethod
    def wait_for_warm_up() -> None:
        """Return once a warm-up in progress (any thread) has finished importing."""
        from engine.training.warm import wait_for_imports

        wait_for_imports()

    @staticmethod
    def warm_up() -> None:
        """Import the training libraries now, quietly and with the collector paused
        (engine/training/warm.py), so the first run in a long-lived process (the console) does
        not stall it importing them; and keep the figures' drawing process started ahead."""
        from engine.training.figures import keep_one_ready
        from engine.training.warm import import_training_libraries

        import_training_libraries()
        keep_one_ready()  # the figures' drawing process too, matplotlib imported (figures.py)

    @classmethod
    def claim_or_attach(
        cls, path: str | os.PathLike[str] | None = None, *, command: str
    ) -> Claim | Attachment:
        """Own the workspace if nobody does, else attach to the process that owns and hosts it
        (waiting while it is still starting). Raises ``WorkspaceLocked`` when its owner does not
        host (a program using the engine as a library)."""
        while True:
            try:
                return cls.claim(path, command=command)
            except WorkspaceLocked:
                state = wait_for_owner(None if path is None else os.fspath(path))
                if state == "busy":
                    raise
                if state == "hosting":
                    workspace = find_workspace(path)
                    endpoint = read_endpoint(workspace)
                    mismatch = None if endpoint is None else protocol_mismatch(workspace, endpoint)
                    if mismatch is not None:
                        raise InvalidInput(mismatch) from None
                    return Attachment(workspace, load_config(workspace.config_path), command)
                # "free": its owner has just gone; try to own it again

    @classmethod
    def _open(cls, workspace: Workspace, command: str | None) -> Engine:
        return cls.claim(workspace.root, command=command).open()

    def _step_context(self, pipeline: Pipeline, pipeline_run: int, progress: Progress) -> StepContext:
        return StepContext(
            pipeline,
            pipeline_run,
            self._db,
            self.datasets,
            self.suites,
            self.quality,
            self.features,
            self._trainer,
            self.runs,
            self.registry,
            self._lookup,
            ChampionScorer(self.runs, self.datasets, self._trainer, self._lookup, self.tracking_uri),
            self.tracking_uri,
            lambda run_id: self.evaluation.evaluate(run_id),
            {
                "business": asdict(self.config.business),
                "fairness": asdict(self.config.fairness),
                "gates": asdict(self.config.gates),
            },
            progress,
        )

    @property
    def tracking_uri(self) -> str:
        return self.config.tracking.uri or self.workspace.local_tracking_uri

    def status(self) -> WorkspaceStatus:
        owner = self._lock.owner
        assert owner is not None, "a closed engine has no status"
        workspace_counts = count_workspace(self._db)
        mlflow_counts = count_mlflow_store(self._local_store)
        with self._db.cursor() as cursor:
            schema_version = max(applied_versions(cursor))
        return WorkspaceStatus(
            path=str(self.workspace.mlops_dir),
            owner=owner,
            schema_version=schema_version,
            tracking_uri=self.tracking_uri,
            counts=Counts(
                datasets=workspace_counts["datasets"],
                runs=mlflow_counts["runs"],
                models=mlflow_counts["models"],
                deployments=workspace_counts["deployments"],
                open_alerts=workspace_counts["open_alerts"],
            ),
            clients=self._host.clients() if self._host is not None else [],
            live=self._live_state(),
        )

    def _live_state(self) -> LiveState:
        upcoming = self.scheduler.next_run()
        return LiveState(
            champions(self._local_store),
            self.server.state().url,
            recent_requests_per_second(self._db),
            upcoming[0] if upcoming else None,
            upcoming[1] if upcoming else None,
        )

    @property
    def closed(self) -> bool:
        return not self._lock.held

    def _interrupt_own_work(self) -> None:
        """On SIGINT/SIGTERM: stop this process's own queries at once; the clients' commands
        keep running for ``close``'s grace period."""
        host = self._host
        self._db.interrupt(spared=host.worker_threads() if host is not None else ())

    def _model_data(self, reference: str) -> ModelFacts:
        """A registered model (``NAME@ALIAS``): the dataset version it trained on, its features,
        target and ONNX file."""
        version = self.registry.resolve(reference)
        run = self.runs.get(version.run_id)
        if not run.dataset or run.features is None:
            raise InvalidInput(f"model:{reference} was trained outside mlops: its training data is not known")
        path, sha256 = self.registry.onnx_file(version.name, version.version)
        target = run.tags.get("mlops.target", "")
        return ModelFacts(version.name, version.version, run.dataset, run.features, target, path, sha256)

    def _served(self, endpoint: str) -> ServedEndpoint | None:
        return next((e for e in self.deployments.plan().endpoints if e.endpoint == endpoint), None)

    def _model_figures(self, model: str, version: int, metric: str) -> tuple[str | None, float | None]:
        """A model version's positive class, and ``metric`` of its newest evaluation on its
        held-out rows (evaluated now, once, if it has none)."""
        run_id = self.registry.version(model, version).run_id
        positive = self.runs.get(run_id).positive_class
        stored = [e for e in self.evaluation.recent(500) if e.run_id == run_id and e.scope == "held-out rows"]
        evaluation = stored[0] if stored else self.evaluation.evaluate(run_id, log=False)
        value = evaluation.scores.metrics.get(metric)
        return positive, None if value is None or value != value else float(value)

    def _holdout_scores(self, model: str, version: int) -> tuple[np.ndarray, np.ndarray]:
        """A model version's held-out rows as it scores them (what CBPE calibrates on)."""
        return self.evaluation.holdout_scores(self.registry.version(model, version).run_id)

    def _entity_keys(self) -> set[str]:
        """The feature definitions' entity keys: the columns that name whose row it is."""
        return {key for status in self.features.views() for key in getattr(status.view, "join_keys", ())}

    def serve(self, runner: CommandRunner, log: Callable[[str], None] = lambda line: None) -> None:
        """Host other processes' commands (engine/host): listen on the workspace's endpoint and
        run each on this engine through ``runner``, until ``close``. Whoever owns the workspace
        serves, so every ``mlops`` command keeps working beside it."""
        if self._host is None:
            self._host = Host(self.workspace, runner, self._call, self._db.interrupt_thread, log)
            self._host.start()
            self.server.log = log

    def _call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run a client's facade call (``"datasets.head"`` or ``"status"``), if it is one of
        ``SURFACE``'s: nothing else of the engine is reachable from another process."""
        if name == "status":
            return self.status()
        service, _, method = name.partition(".")
        if method not in SURFACE.get(service, ()):
            raise InvalidInput(f"{name!r} is not a call of the engine's facade")
        self.wait_for_warm_up()  # two threads importing MLflow at once break it (engine/training/warm.py)
        return getattr(getattr(self, service), method)(*args, **kwargs)

    def close(self) -> None:
        """Stop hosting (the clients' commands in flight get ``GRACE_SECONDS`` to finish),
        checkpoint DuckDB and give up ownership; safe to call more than once."""
        try:
            self.scheduler.stop()  # a run in progress finishes on the open database
            self.server.stop_if_running()  # its last log batches need the host and the database
            if self._host is not None:  # kept while it closes: a signal meanwhile spares its clients
                self._host.close()  # safe to repeat
            # A command that raised an alert delivers it before it exits (a webhook, the log).
            self.alerts.flush(ALERT_DELIVERY_SECONDS)
            self._db.close()
        finally:
            self._lock.release()
            self._shutdown.disarm()

    def __enter__(self) -> Engine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class Claim:
    """A workspace this process owns but whose database is not open yet."""

    def __init__(
        self, workspace: Workspace, config: Config, lock: OwnerLock, shutdown: ShutdownGuard
    ) -> None:
        self.workspace = workspace
        self.config = config
        self.lock = lock
        self._shutdown = shutdown

    def open(self) -> Engine:
        """Open the catalogue, migrate it and put right what a killed process left; on failure
        (or a signal meanwhile) the database is closed and the ownership given up."""
        db: Database | None = None
        try:
            db = Database(self.workspace.db_path)
            self._shutdown.hand_over(lambda: None, db.interrupt)
            make_private(self.workspace)  # the database file, if this open created it
            with db.cursor() as cursor:
                migrate(cursor)
            return Engine(self.workspace, self.lock, db, self.config, self._shutdown)
        except BaseException:
            if db is not None:
                db.close()
            self.release()
            raise

    def release(self) -> None:
        self.lock.release()
        self._shutdown.disarm()


class Attachment:
    """A workspace another process owns and hosts, found but not yet attached to."""

    def __init__(self, workspace: Workspace, config: Config, command: str) -> None:
        self.workspace = workspace
        self.config = config
        self._command = command

    def open(self, on_owner_left: Callable[[int], None]) -> AttachedEngine:
        """Attach; ``on_owner_left(pid)`` is called from another thread if the owner stops or
        dies while attached. Raises ``OwnerGone`` if it has stopped meanwhile."""
        return AttachedEngine(
            self.workspace, self.config, Session.attach(self.workspace, self._command, on_owner_left)
        )

    def release(self) -> None:
        """Nothing is held before ``open``: here for symmetry with ``Claim``."""


class AttachedEngine:
    """The facade of a workspace another process owns: the same services as ``Engine``, each
    call run in the owner and answered with the same types and errors (engine/host/remote.py)."""

    def __init__(self, workspace: Workspace, config: Config, session: Session) -> None:
        self.workspace = workspace
        self.config = config
        self._session = session
        self.datasets = cast(Datasets, session.service("datasets", SURFACE["datasets"]))
        self.suites = cast(Suites, session.service("suites", SURFACE["suites"]))
        self.quality = cast(DataQuality, session.service("quality", SURFACE["quality"]))
        self.features = cast(FeatureStore, session.service("features", SURFACE["features"]))
        self.training = cast(Training, session.service("training", SURFACE["training"]))
        self.runs = cast(Runs, session.service("runs", SURFACE["runs"]))
        self.evaluation = cast(Evaluator, session.service("evaluation", SURFACE["evaluation"]))
        self.registry = cast(Registry, session.service("registry", SURFACE["registry"]))
        self.pipelines = cast(Pipelines, session.service("pipelines", SURFACE["pipelines"]))
        self.events = cast(EventLog, session.service("events", SURFACE["events"]))
        self.tokens = cast(Tokens, session.service("tokens", SURFACE["tokens"]))
        self.deployments = cast(Deployments, session.service("deployments", SURFACE["deployments"]))
        self.server = cast(ServerControl, session.service("server", SURFACE["server"]))
        self.predictions = cast(PredictionLog, session.service("predictions", SURFACE["predictions"]))
        self.labels = cast(Labels, session.service("labels", SURFACE["labels"]))
        self.traffic = cast(Traffic, session.service("traffic", SURFACE["traffic"]))
        self.drift = cast(Drift, session.service("drift", SURFACE["drift"]))
        self.alerts = cast(Alerts, session.service("alerts", SURFACE["alerts"]))
        self.accuracy = cast(LiveAccuracy, session.service("accuracy", SURFACE["accuracy"]))
        self.monitors = cast(Monitors, session.service("monitors", SURFACE["monitors"]))
        self.gauges = cast(Gauges, session.service("gauges", SURFACE["gauges"]))
        self.loop = cast(RetrainLoop, session.service("loop", SURFACE["loop"]))
        self.scheduler = cast(Scheduler, session.service("scheduler", SURFACE["scheduler"]))

    @property
    def owner_pid(self) -> int:
        return self._session.owner_pid

    def status(self) -> WorkspaceStatus:
        return cast(WorkspaceStatus, self._session.call("status", (), {}))

    def close(self) -> None:
        """Detach; the owner and the workspace carry on."""
        self._session.close()


def _default_command() -> str:
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return " ".join([program, *sys.argv[1:2]])
