"""The console frame driven by the Pilot: keys, help, palette, filter, mouse, errors, quit."""

from __future__ import annotations

import os
from pathlib import Path

from textual.command import CommandList, CommandPalette
from textual.widgets import DataTable, Input, Static

from console.app import MlopsApp
from console.screens.help import HelpScreen
from console.screens.home import HomeScreen
from console.widgets.filter_table import FilterableTable, FilterInput
from console.widgets.header import WorkspaceHeader
from engine.errors import MlopsError
from engine.lock import read_owner
from tests.console.conftest import notified, plain_text, until

SIZE = (120, 36)


def header_text(app: MlopsApp) -> str:
    return app.screen.query_one(WorkspaceHeader).text


def event_messages(app: MlopsApp) -> list[str]:
    table = app.screen.query_one("#events", FilterableTable).table
    return [str(table.get_row(row.key)[2]) for row in table.ordered_rows]


async def test_home_shows_the_workspace_its_owner_and_counts(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        assert isinstance(console_app.screen, HomeScreen)
        await until(pilot, lambda: "owner" in header_text(console_app), what="the first status")
        header = header_text(console_app)
        assert f"pid {os.getpid()} (mlops console)" in header
        assert "serving off" in header and "alerts 0" in header  # the counts are on the Home screen
        details = plain_text(console_app.screen.query_one("#status-details", Static))
        assert console_app.workspace_label in details
        assert event_messages(console_app) == ["workspace created"]


async def test_activity_refreshes_live(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: console_app.engine is not None)
        assert console_app.engine is not None
        console_app.engine.events.record("model", "churn", "promoted v3 to champion")
        await until(
            pilot,
            lambda: "promoted v3 to champion" in event_messages(console_app),
            what="the new event on screen",
        )


async def test_help_lists_every_binding_and_esc_closes_it(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(console_app.screen, HelpScreen)
        table = console_app.screen.query_one(DataTable)
        keys = {str(table.get_row(row.key)[0]) for row in table.ordered_rows}
        assert {"q", "?", "/", "r", "esc", "ctrl+t", "1", "ctrl+p"} <= keys
        await pilot.press("escape")
        assert isinstance(console_app.screen, HomeScreen)


async def test_palette_offers_the_screens_actions(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        titles = {command.title for command in console_app.get_system_commands(console_app.screen)}
        assert {"Filter", "Refresh", "Help", "Quit", "Go to Home", "Dark/light"} <= titles
        assert "Cursor down" not in titles  # widget keys are not commands
        theme = console_app.theme
        await pilot.press("ctrl+p")
        assert isinstance(console_app.screen, CommandPalette)
        await pilot.press(*"dark/light")
        await until(
            pilot, lambda: console_app.screen.query_one(CommandList).option_count > 0, what="palette results"
        )
        await pilot.press("enter")
        await until(pilot, lambda: console_app.theme != theme, what="the theme to change")


async def test_ctrl_t_toggles_dark_and_light(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        was_dark = console_app.current_theme.dark
        await pilot.press("ctrl+t")
        assert console_app.current_theme.dark is not was_dark
        await pilot.press("ctrl+t")
        assert console_app.current_theme.dark is was_dark


async def test_slash_filters_the_table_at_the_source_and_esc_clears(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: console_app.engine is not None)
        assert console_app.engine is not None
        console_app.engine.events.record("data", "churn@v1", "ingested 20,000 rows")
        console_app.engine.events.record("model", "churn", "promoted v2 to champion")
        await until(pilot, lambda: len(event_messages(console_app)) == 3)
        await pilot.press("slash")
        assert isinstance(console_app.focused, FilterInput)
        await pilot.press(*"promot")
        await until(
            pilot, lambda: event_messages(console_app) == ["promoted v2 to champion"], what="filtering"
        )
        await pilot.press("escape")
        assert console_app.screen.query_one(FilterInput).value == ""
        assert isinstance(console_app.focused, DataTable)
        await until(pilot, lambda: len(event_messages(console_app)) == 3, what="the filter to clear")


async def test_typing_in_the_filter_does_not_trigger_keys(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        await pilot.press("q", "question_mark", "1")
        assert console_app.is_running
        assert isinstance(console_app.screen, HomeScreen)
        assert console_app.screen.query_one(Input).value == "q?1"


async def test_mouse_clicks_a_footer_key_and_a_screen_name(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: console_app.engine is not None)
        await pilot.pause()
        help_key = next(key for key in console_app.screen.query("FooterKey") if key.key == "question_mark")
        assert await pilot.click(help_key)
        assert isinstance(console_app.screen, HelpScreen)
        await pilot.press("escape")
        assert await pilot.click(".nav-link")
        assert isinstance(console_app.screen, HomeScreen)


async def test_a_failing_engine_call_becomes_a_notification_not_a_crash(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: console_app.engine is not None)
        assert console_app.engine is not None

        def broken_status() -> None:
            raise MlopsError("the catalogue is unreadable")

        await until(pilot, lambda: "alerts 0" in header_text(console_app), what="a first refresh")
        console_app.engine.status = broken_status  # type: ignore[method-assign]
        await until(
            pilot,
            lambda: notified(console_app, "the catalogue is unreadable"),
            what="the error notification",
        )
        assert console_app.is_running
        # The last figures stay on screen, marked with when they were read.
        await until(pilot, lambda: "stale since " in header_text(console_app), what="the stale mark")
        assert "alerts 0" in header_text(console_app)


async def test_q_quits_and_the_workspace_is_released(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: console_app.engine is not None)
        await pilot.press("q")
    console_app.close_engine()
    assert read_owner(Path(console_app.workspace_label)) is None


def test_the_console_loads_nothing_heavy_before_its_first_paint() -> None:
    from tests.engine.test_facade import loaded_top_level_modules

    loaded = loaded_top_level_modules("import console.launcher, console.__main__, console.app")
    heavy = {"duckdb", "pandas", "numpy", "mlflow", "sklearn", "evidently", "great_expectations"}
    assert loaded.isdisjoint(heavy), loaded & heavy


async def test_the_palette_starts_and_stops_the_inference_server(workspace: Path) -> None:
    import httpx

    from engine.cli import host_commands
    from engine.facade import Engine
    from tests.console.conftest import RecordingApp

    (workspace / ".mlops" / "config.toml").write_text("[serving]\nport = 0\n")
    app = RecordingApp(Engine.claim(workspace, command="mlops console"), serve=host_commands)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.engine is not None, what="the engine")

            async def run_from_palette(title: str) -> None:
                await pilot.press("ctrl+p")
                await pilot.press(*title)
                await until(pilot, lambda: app.screen.query_one(CommandList).option_count > 0, what="results")
                await pilot.press("enter")

            await run_from_palette("Start the inference server")
            await until(
                pilot, lambda: notified(app, "Serving every deployment at http://127.0.0.1:"), what="start"
            )
            assert app.engine is not None
            url = app.engine.server.state().url
            assert url is not None and httpx.get(f"{url}/v2/health/live").json()["live"] is True
            await run_from_palette("Stop the inference server")
            await until(pilot, lambda: notified(app, "The inference server stopped"), what="stop")
            assert app.engine.server.state().url is None
    finally:
        app.close_engine()
