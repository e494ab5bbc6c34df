"""A first switch to each screen parses no stylesheet: the screens' sheets and the widgets'
default CSS are loaded at start-up (console/styles.py), so the switch only styles and paints
the new screen. Left to Textual, each first switch parsed every sheet again and restyled the
whole app, the largest part of its event-loop stall."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.css.stylesheet import Stylesheet

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
