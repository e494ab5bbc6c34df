"""What a screen needs from the app that hosts it, as a protocol: screens depend on this, not on
``MlopsApp``, so the app can import its screens without an import circle back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from console.demo_tour import DemoTour
    from engine.facade import Facade


@dataclass(frozen=True)
class NavTarget:
    """A screen the navigation bar offers: its number key, its mode and its name."""

    key: str
    mode: str
    title: str


@runtime_checkable
class ConsoleHost(Protocol):
    engine: Facade | None  # None until the workspace is open (owned, or attached to its owner)
    workspace_label: str  # the workspace's .mlops folder, shown until the first status arrives
    refresh_seconds: float
    navigation: Sequence[NavTarget]
    demo: DemoTour | None  # the demo running in this console (console/demo_tour.py), if any
