"""The console's screens, in the order of their number keys.

A new screen is one module and one .tcss here, and one entry below: the app builds its
modes, its number-key bindings, the navigation bar and palette commands from this list.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.screens.base import ConsoleScreen
from console.screens.datasets import DatasetsScreen
from console.screens.evaluation import EvaluationScreen
from console.screens.experiments import ExperimentsScreen
from console.screens.features import FeaturesScreen
from console.screens.home import HomeScreen
from console.screens.models import ModelsScreen
from console.screens.monitoring import MonitoringScreen
from console.screens.scheduler import SchedulerScreen
from console.screens.serving import ServingScreen


@dataclass(frozen=True)
class ScreenEntry:
    key: str
    screen: type[ConsoleScreen]

    @property
    def mode(self) -> str:
        return self.screen.MODE

    @property
    def title(self) -> str:
        return self.screen.TITLE


SCREENS: tuple[ScreenEntry, ...] = (
    ScreenEntry("1", HomeScreen),
    ScreenEntry("2", DatasetsScreen),
    ScreenEntry("3", FeaturesScreen),
    ScreenEntry("4", ExperimentsScreen),
    ScreenEntry("5", EvaluationScreen),
    ScreenEntry("6", ModelsScreen),
    ScreenEntry("7", ServingScreen),
    ScreenEntry("8", MonitoringScreen),
    ScreenEntry("9", SchedulerScreen),
)
