"""A first switch to each screen parses no stylesheet and meets no long full collection.

The screens' sheets and the widgets' default CSS are loaded at start-up (console/styles.py),
so the switch only styles and paints the new screen; left to Textual, each first switch parsed
every sheet again and restyled the whole app. And the console's long-lived objects are frozen
(console/collector.py), so a full collection does not traverse them."""

from __future__ import annotations

import gc
from collections.abc import Callable

import pytest
from textual.css.stylesheet import Stylesheet

from console.collector import FREEZER, SWEEP_SECONDS
from console.screens import SCREENS
from console.screens.help import HelpScreen
from tests.console.conftest import RecordingApp, until


async def test_a_first_switch_parses_no_stylesheet(
    console_app: RecordingApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = console_app
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.engine is not None)
        await until(pilot, lambda: not app.stylesheet._require_parse, what="the start-up styles")
        parsed: list[str] = []
        parse: Callable[[Stylesheet], None] = Stylesheet.parse

        def counted(stylesheet: Stylesheet) -> None:
            import traceback

            parsed.append(type(app.screen).__name__ + "".join(traceback.format_stack(limit=8)))
            parse(stylesheet)

        monkeypatch.setattr(Stylesheet, "parse", counted)
        for entry in (*SCREENS[1:], SCREENS[0]):
            await pilot.press(entry.key)
            await until(pilot, lambda shown=entry.screen: isinstance(app.screen, shown), what=entry.title)
            await pilot.pause()
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        await pilot.press("escape")
        await pilot.pause()
        assert parsed == []


async def test_shown_screens_and_what_survives_a_full_collection_are_frozen(
    console_app: RecordingApp,
) -> None:
    """Full collections skip the console's long-lived objects (console/collector.py): a
    screen's widgets once it is shown, and whatever survived a full collection; every half hour
    the frozen set is swept once and frozen again."""
    app = console_app
    callbacks = len(gc.callbacks)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.engine is not None)
        assert len(gc.callbacks) == callbacks + 1
        before = gc.get_freeze_count()
        await pilot.press("9")
        await until(pilot, lambda: gc.get_freeze_count() > before, what="the shown screen frozen")
        frozen = gc.get_freeze_count()
        survivors = [[index] for index in range(1000)]
        gc.collect()
        await until(
            pilot, lambda: gc.get_freeze_count() >= frozen + len(survivors), what="the survivors frozen"
        )

        FREEZER._swept_at -= SWEEP_SECONDS  # time for a sweep: unfrozen, to be swept
        gc.collect()
        await until(pilot, lambda: gc.get_freeze_count() == 0, what="the frozen set unfrozen")
        gc.collect()  # the sweep; what survives it is frozen again
        await until(pilot, lambda: gc.get_freeze_count() >= len(survivors), what="frozen again")
    assert len(gc.callbacks) == callbacks  # the app gone, its callback too
