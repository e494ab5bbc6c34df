"""How an endpoint with more than one variant picks the model that answers a request.

A canary sends ``percent`` of the requests, drawn at random per request, to the canary model
and the rest to the primary; both take the same features (checked when it is deployed), so
a request valid for one is valid for the other. What the endpoint says of itself (its
metadata: version, features) is the primary's.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Protocol

from engine.serving.model import Feature, Place, Prediction, ServedModel


class Servable(Protocol):
    """What the routes need of an endpoint: one model, or variants behind one face."""

    name: str
    version: int
    features: list[Feature]
    classes: list[str]

    def predict(self, instances: Any, place: Place | None = None) -> list[Prediction]: ...


class Canary:
    def __init__(
        self,
        primary: ServedModel,
        canary: ServedModel,
        percent: float,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.primary = primary
        self.canary = canary
        self.percent = percent
        self._draw = draw
        self.name = primary.name
        self.version = primary.version
        self.features = primary.features
        self.classes = primary.classes

    def predict(self, instances: Any, place: Place | None = None) -> list[Prediction]:
        chosen = self.canary if self._draw() * 100 < self.percent else self.primary
        return chosen.predict(instances, place)
