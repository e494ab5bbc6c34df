"""How an endpoint picks the model that answers each request row, strategy by strategy.

Every variant of an endpoint takes the same features (checked when it is deployed), so a row is
checked once, against the endpoint's face, and any variant can answer it:

- single: the primary answers everything;
- canary: ``percent`` of the requests, drawn at random per request, go to the canary;
- shadow: the primary answers; the shadow answers the same rows after the response has gone
  (``Routed.shadow``), for the log only;
- bluegreen: the live colour (``settings["live"]``: blue or green) answers; the other is staged,
  loaded and ready, so a switch is the next plan's pointer change, not a load;
- ab: ``split`` percent of the keys go to ``b``, the rest to ``a``, by a hash of the endpoint
  and the row's key, so the same key always meets the same variant. The key (``settings
  ["key"]``) is a feature of the row, or the request's ``X-Entity`` when it names that key, or
  a request header of that name; a request without one is drawn at random.

What the endpoint says of itself (metadata, version, features) is the face's: the primary, or
the live colour.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.serving.model import Feature, Prediction, ServedModel

SINGLE, CANARY, SHADOW, BLUEGREEN, AB = "single", "canary", "shadow", "bluegreen", "ab"
PRIMARY, BLUE, GREEN, A, B = "primary", "blue", "green", "a", "b"


@dataclass(frozen=True)
class Arm:
    """A variant as it answers: its role in the strategy and its model."""

    role: str
    model: ServedModel


@dataclass(frozen=True)
class RequestKeys:
    """What of a request, beside its rows, can choose a variant: its entity (``X-Entity:
    customer_id=42``) and its headers."""

    entity_key: str | None = None
    entity: str | None = None
    header: Callable[[str], str | None] = field(default=lambda name: None)


@dataclass(frozen=True)
class Routed:
    """A request's answer: each row's prediction and the arm that made it, and the shadow that
    is still to answer the same rows (for the log)."""

    rows: list[list[Any]]
    predictions: list[Prediction]
    arms: list[Arm]
    shadow: Arm | None


class Endpoint:
    """An endpoint's variants behind one face, routing each request by its strategy."""

    def __init__(
        self,
        name: str,
        strategy: str,
        arms: dict[str, ServedModel],
        settings: dict[str, Any],
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.name = name
        self.strategy = strategy
        self._arms = {role: Arm(role, model) for role, model in arms.items()}
        self._settings = settings
        self._draw = draw
        face_role = (
            str(settings.get("live", BLUE)) if strategy == BLUEGREEN else (A if strategy == AB else PRIMARY)
        )
        self.face = self._arms[face_role]
        self.shadow = self._arms.get(SHADOW) if strategy == SHADOW else None
        self._key_position = next(
            (i for i, f in enumerate(self.features) if f.column == settings.get("key")), None
        )

    @property
    def model(self) -> ServedModel:
        return self.face.model

    @property
    def features(self) -> list[Feature]:
        return self.face.model.features

    def answer(self, rows: list[list[Any]], keys: RequestKeys) -> Routed:
        """Answer checked rows (``self.model.rows``), each by the arm the strategy picks."""
        chosen = self._choose(rows, keys)
        if all(arm is chosen[0] for arm in chosen):
            return Routed(rows, chosen[0].model.run(rows), chosen, self.shadow)
        predictions: list[Prediction | None] = [None] * len(rows)
        for arm in {id(arm): arm for arm in chosen}.values():
            positions = [i for i, picked in enumerate(chosen) if picked is arm]
            for position, prediction in zip(
                positions, arm.model.run([rows[i] for i in positions]), strict=True
            ):
                predictions[position] = prediction
        return Routed(rows, [p for p in predictions if p is not None], chosen, self.shadow)

    def _choose(self, rows: list[list[Any]], keys: RequestKeys) -> list[Arm]:
        if self.strategy == CANARY:
            canary = self._draw() * 100 < float(self._settings["percent"])
            return [self._arms[CANARY if canary else PRIMARY]] * len(rows)
        if self.strategy == AB:
            return [self._ab_arm(row, keys) for row in rows]
        return [self.face] * len(rows)

    def _ab_arm(self, row: list[Any], keys: RequestKeys) -> Arm:
        key = str(self._settings["key"])
        if self._key_position is not None:
            value = row[self._key_position]
            value = None if value is None else str(value)
        elif keys.entity_key == key:
            value = keys.entity
        else:
            value = keys.header(key)
        share = _bucket(self.name, value) if value is not None else self._draw()
        return self._arms[B if share * 100 < float(self._settings["split"]) else A]


def _bucket(endpoint: str, key: str) -> float:
    """The key's place in [0, 1), the same in every process and run (not Python's salted hash);
    the endpoint takes part so two experiments split the same keys independently."""
    digest = hashlib.blake2b(f"{endpoint}\0{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64
