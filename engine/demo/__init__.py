"""``engine.demo``: the whole lifecycle on the sample data, in one call (``mlops demo``).

On a new workspace it ingests and validates the data, fills the feature store, trains and
sweeps, runs the sample pipeline, evaluates and promotes the best model, serves it, replays
the production weeks through the server with the monitors watching, ingests the late labels,
and lets the retrain loop canary a challenger and promote it or roll it back. Each part is a
module of its own (data, models, live, retrain); this one runs them in order and tells the
story (``DemoReport``). A finished demo is marked in the workspace (marker.py), so running it
again adds nothing and shows the same report.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from pathlib import Path

from engine.config import Config
from engine.demo import data, live, marker, models, retrain, settings
from engine.demo.services import DemoServices
from engine.errors import InvalidInput
from engine.types.demo import DemoReport
from engine.types.progress import Progress, no_progress
from engine.types.workspace import Workspace

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"

NEXT_STEPS = [
    "mlops console --workspace {root}: every screen shows what the demo made (Models, Serving, Monitoring)",
    "mlops loop history --workspace {root}; mlops alerts list --all --workspace {root}",
    "docs/monitoring.md (drift, accuracy, the loop), docs/serving.md, sample_data/README.md",
]

STAGES = (  # where each part starts on the progress bar, by its measured share of the time
    ("data", 0.0),
    ("features", 0.06),
    ("models", 0.1),
    ("pipeline", 0.35),
    ("promote", 0.5),
    ("live", 0.6),
    ("labels", 0.8),
    ("retrain", 0.85),
    ("done", 1.0),
)


def apply_settings(workspace: Workspace) -> bool:
    """Write the demo's settings into a workspace's config.toml; whether it changed."""
    text = workspace.config_path.read_text()
    changed = settings.with_overrides(text)
    if changed == text:
        return False
    workspace.config_path.write_text(changed)
    return True


def settings_in_effect(config: Config) -> bool:
    return (
        config.loop.enabled
        and not config.alerts.stdout
        and config.monitors.drift_window == f"{settings.DRIFT_WINDOW_SECONDS}s"
        and config.monitors.drift_share == settings.DRIFT_SHARE
    )


class Demo:
    """The demo on this engine's workspace; ``run`` needs the engine to host it (the inference
    server's processes reach the workspace through its owner)."""

    def __init__(self, engine: DemoServices, sample: Path = SAMPLE) -> None:
        self._engine = engine
        self._sample = sample

    def state(self) -> marker.State:
        return marker.state(self._engine.events, self._engine.status().counts)

    def run(
        self, progress: Progress = no_progress, on_part: Callable[[str], None] | None = None
    ) -> DemoReport:
        """Run the demo; ``on_part`` is told the name of each part of ``STAGES`` as it begins
        (the console follows them from screen to screen)."""
        engine = self._engine
        found = self.state()
        if found == "finished":
            return marker.kept(engine.workspace)
        marker.refuse(found, engine.workspace, engine.status().counts)
        if not settings_in_effect(engine.config):
            raise InvalidInput(
                "the demo's settings are not in effect: open the workspace for the demo "
                "(`mlops demo`, Engine.open_demo) so they are written to its config.toml first"
            )
        started = time.monotonic()
        root = str(engine.workspace.root)
        engine.events.record(marker.KIND, root, marker.STARTED)
        stage = _Stager(progress, on_part or (lambda name: None))
        versions = data.ingest_and_validate(engine, self._sample, stage("data"))
        data.features(engine, self._sample, stage("features"))
        runs = models.train_and_compare(engine, stage("models"))
        pipeline = models.run_pipeline(engine, self._sample, stage("pipeline"))
        piped = models.pipeline_run(engine, pipeline)
        best = models.promote_and_deploy(
            engine, models.best_of([*runs, *([piped] if piped else [])]), pipeline, stage("promote")
        )
        before = retrain.champion(engine)
        engine.server.start("127.0.0.1", 0, 1)
        try:
            watched = live.weeks(engine, stage("live"))
            live.late_labels(engine, str(self._sample / "churn_labels.csv"), watched, stage("labels"))
            turn = retrain.finish_turn(engine, stage("retrain"))
        finally:
            engine.server.stop_if_running()
        live.collect(engine, watched.seen, "retrain loop", watched.alerts)
        report = DemoReport(
            workspace=root,
            added=True,
            seconds=round(time.monotonic() - started, 1),
            fairness=settings.FAIRNESS_NOTE,
            drift=settings.DRIFT_NOTE,
            versions=versions,
            runs=[*runs, *([piped] if piped else [])],
            pipeline=pipeline,
            best=best,
            champion_before=before,
            champion_after=retrain.champion(engine),
            alerts=watched.alerts,
            checks=watched.checks,
            loop=turn,
            next_steps=[step.format(root=root) for step in NEXT_STEPS],
        )
        marker.keep(report, engine.workspace)
        engine.events.record(marker.KIND, root, marker.FINISHED)
        stage("done")("finished", None)
        return report


class _Stager:
    """Each part's own progress (0 to 1) placed on the whole run's bar."""

    def __init__(self, progress: Progress, on_part: Callable[[str], None]) -> None:
        self._progress = progress
        self._on_part = on_part
        self._bounds = {name: (start, end) for (name, start), (_, end) in itertools.pairwise(STAGES)}
        self._bounds["done"] = (1.0, 1.0)

    def __call__(self, name: str) -> Progress:
        start, end = self._bounds[name]
        self._on_part(name)

        def report(stage: str, fraction: float | None) -> None:
            self._progress(stage, start + (end - start) * (fraction if fraction is not None else 0.0))

        return report
