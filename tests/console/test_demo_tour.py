"""The demo inside the console (console/demo_tour.py), as `make run` opens it on a new
workspace: the screens follow each part of the demo, a bar says what it does, a number key
takes the person elsewhere for good, quitting asks first, and the scheduler starts once the
demo has finished."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.screens.base import ConsoleScreen
from console.widgets.demo_bar import DemoBar
from console.widgets.dialogs import ConfirmDialog
from engine.cli import host_commands
from engine.demo import marker
from engine.errors import InvalidInput
from engine.facade import Engine
from engine.lock import read_owner
from engine.types.demo import DemoReport
from tests.conftest import SAMPLE
from tests.console.conftest import RecordingApp, notified, plain_text, rows_of, until


def demo_bar(app: RecordingApp) -> DemoBar:
    assert isinstance(app.screen, ConsoleScreen)
    return app.screen.query_one(DemoBar)


def showing(app: RecordingApp, mode: str) -> bool:
    """``mode``'s screen is shown and mounted, its demo bar mirroring the demo."""
    screen = app.screen
    return (
        app.current_mode == mode
        and isinstance(screen, ConsoleScreen)
        and bool(screen.query(DemoBar))
        and screen.query_one(DemoBar).has_class("-active")
    )


@pytest.mark.slow
async def test_the_console_follows_the_demo_until_the_person_looks_around(tmp_path: Path) -> None:
    directory = tmp_path / "demo-workspace"  # absent: made ready as `mlops demo --console` does
    assert Engine.prepare_demo(directory) is True
    app = RecordingApp(Engine.claim(directory, command="mlops console"), serve=host_commands, demo=True)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(pilot, lambda: showing(app, "datasets"), what="the data part's screen")
            assert app.engine is not None and app.engine.scheduler.next_run() is None  # not during the demo

            await pilot.press("q")  # the demo cannot be resumed: quitting asks first
            await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
            await pilot.press("escape")
            assert app.is_running and app.demo is not None and app.demo.running

            await until(pilot, lambda: showing(app, "serving"), timeout=240, what="the live part")
            order = ["home", "datasets", "features", "experiments", "models"]
            assert app._visited[:2] == ["home", "datasets"] and "models" in app._visited
            shown = [order.index(mode) for mode in app._visited]
            assert shown == sorted(set(shown))  # in the demo's order, each once
            await until(pilot, lambda: "churn-api" in str(rows_of(app, "#deployments")), what="the endpoint")
            assert "replaying week" in plain_text(demo_bar(app).query_one("#demo-stage"))

            await pilot.press("8")  # the person looks around: the console stays where they put it
            await until(pilot, lambda: app.demo is not None and app.demo.stage.startswith("week"))
            assert app.current_mode == "monitoring" and demo_bar(app).has_class("-active")

            await pilot.press("q")  # quit mid-demo: asked, confirmed, and the demo stops there
            await until(pilot, lambda: any(b.region.area for b in app.screen.query("#confirm")))
            await pilot.click("#confirm")
            await until(pilot, lambda: not app.is_running, what="the console to quit")
    finally:
        app.close_engine()
    assert read_owner(directory / ".mlops") is None  # closed, not left waiting for the demo's end
    with pytest.raises(InvalidInput, match="did not finish"):  # the next `make run` says what to do
        Engine.prepare_demo(directory)


async def test_when_the_demo_finishes_the_console_says_so_and_starts_its_scheduler(workspace: Path) -> None:
    """The end of a demo, as the console sees it: here a finished demo's report, kept as the
    demo keeps it (the whole run is the test above's and tests/e2e/test_demo.py's)."""
    assert Engine.prepare_demo(workspace) is True
    with Engine.open(workspace, command="pytest") as engine:
        engine.events.record(marker.KIND, str(workspace), marker.STARTED)
        marker.keep(FINISHED, engine.workspace)
        engine.events.record(marker.KIND, str(workspace), marker.FINISHED)
    app = RecordingApp(Engine.claim(workspace, command="mlops console"), serve=host_commands, demo=True)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(pilot, lambda: app.demo is not None and not app.demo.running, what="the demo's end")
            assert notified(app, "The demo finished in 40 s. Champion churn v2 -> churn v3")
            assert notified(app, "(the retrain loop: promoted); 2 alerts raised")
            assert isinstance(app.screen, ConsoleScreen) and not demo_bar(app).has_class("-active")
            await until(pilot, lambda: app.engine is not None and app.engine.scheduler.next_run() is not None)
            await pilot.press("q")  # nothing runs now: no question
            await until(pilot, lambda: not app.is_running, what="the console to quit")
    finally:
        app.close_engine()


FINISHED = DemoReport(
    workspace="demo-workspace",
    added=True,
    seconds=40.0,
    fairness="",
    versions=[],
    runs=[],
    pipeline={},
    best={},
    champion_before="churn v2",
    champion_after="churn v3",
    alerts=[{"when": "week 2", "source": "drift:churn-api"}, {"when": "week 3", "source": "drift:churn-api"}],
    checks=[],
    loop={"outcome": "promoted"},
)


def test_a_workspace_with_work_of_its_own_is_not_made_a_demo(workspace: Path) -> None:
    with Engine.open(workspace, command="pytest") as engine:
        engine.datasets.ingest(SAMPLE / "churn_week_1.csv", "week1")
    with pytest.raises(InvalidInput, match="work of its own"):
        Engine.prepare_demo(workspace)
    assert "set by mlops demo" not in (workspace / ".mlops" / "config.toml").read_text()
