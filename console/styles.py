"""Every stylesheet the console will need, loaded while it starts instead of on first use.

Textual reads a screen's CSS_PATH when the screen first mounts, and a widget class's
DEFAULT_CSS when its first widget mounts; either makes it parse every stylesheet again, in the
event loop. And a screen made for a mode starts as if styled before the theme was set, so its
first switch also re-parses everything and restyles every node of the app (``refresh_css``).
Left to happen on first use, that lands on the first switch to each screen: measured with
cProfile, CSS parsing and restyling were most of the Python work of a first switch. Here the
sheets are loaded once at start-up, after the first paint, and a mode's screen is made as one
styled with the current sheets, which it is: it is styled as it mounts.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Any

from textual._context import active_app
from textual.app import App
from textual.screen import Screen
from textual.widget import Widget

from console.screens import SCREENS
from console.screens.datasets.diff import DiffScreen
from console.screens.experiments.compare import CompareScreen
from console.screens.help import HelpScreen


def screen_stylesheets() -> list[Path]:
    """Each screen's CSS_PATH (the modal ones' too), resolved as Textual resolves it, so a
    screen finds its sheet already loaded when it mounts."""
    screens: list[type[Screen[Any]]] = [entry.screen for entry in SCREENS]
    screens += [HelpScreen, DiffScreen, CompareScreen]
    found = []
    for screen in screens:
        paths = screen.CSS_PATH
        for path in [paths] if isinstance(paths, str | PurePath) else paths or []:
            found.append((Path(inspect.getfile(screen)).parent / path).resolve())
    return found


def load_widget_styles(app: App[Any]) -> None:
    """Add the DEFAULT_CSS of every widget class imported so far (the console's modules are all
    imported by now) and parse once. Uses Textual's own ``_get_default_css``, so the sources
    are exactly those a first mount would add; the version is pinned below 9."""
    for widget_class in _subclasses(Widget):
        stand_in = widget_class.__new__(widget_class)  # _get_default_css reads only its class
        for read_from, css, tie_breaker, scope in widget_class._get_default_css(stand_in):
            app.stylesheet.add_source(
                css, read_from=read_from, is_default_css=True, tie_breaker=tie_breaker, scope=scope
            )
    app.refresh_css(animate=False)


def styled_on_arrival(screen_class: type[Screen[Any]]) -> Callable[[], Screen[Any]]:
    """A mode's screen factory (App.MODES): the screen, marked as styled with the app's current
    CSS (Textual's ``_css_update_count``), since a new screen is styled as it mounts anyway."""

    def made() -> Screen[Any]:
        screen = screen_class()
        screen._css_update_count = active_app.get()._css_update_count
        return screen

    return made


def _subclasses(base: type[Widget]) -> list[type[Widget]]:
    found: list[type[Widget]] = []
    for subclass in base.__subclasses__():
        found += [subclass, *_subclasses(subclass)]
    return found
