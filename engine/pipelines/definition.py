"""Pipeline files: a DAG of steps declared in TOML, checked in full before anything runs.

    name = "churn"
    experiment = "churn-pipeline"

    [steps.load]
    dataset = "churn"

    [steps.validate]
    suite = "churn"

    [steps.train]
    target = "churned"
    model = "random_forest"
    params = { n_estimators = 200 }

A step's kind is its ``kind`` key, or its name when that names a kind (``[steps.train]`` is a
train step). ``needs`` lists the steps it runs after; by default a step needs the step above
it, so a plain list of steps is a chain, and ``needs = []`` starts a new branch. A step takes
its inputs from the one upstream step that produces them (a train step's data from its load
step, a gate's metrics from its evaluate step); two candidates are an error naming both.
Every mistake is one line naming the file, the step, the key and what was expected.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import InvalidInput

# What each kind of step accepts, and which keys it must have.
KINDS: dict[str, tuple[set[str], set[str]]] = {
    "load": ({"dataset", "query", "output", "entities", "feature_views"}, set()),
    "validate": ({"suite"}, {"suite"}),
    "train": (
        {
            "target",
            "model",
            "params",
            "features",
            "feature_views",
            "split",
            "test_size",
            "seed",
            "positive_class",
            "deps",
        },
        {"target"},
    ),
    "evaluate": (set(), set()),
    "gate": ({"require", "beats_champion", "promotion_gates"}, set()),
    "register": ({"model_name"}, {"model_name"}),
}
# The kind of upstream step each kind takes its input from.
INPUT_KIND = {
    "validate": "load",
    "train": "load",
    "evaluate": "train",
    "gate": "evaluate",
    "register": "train",
}
CONDITION = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][\w.\-]*)\s*(?P<op><=|>=|==|!=|<|>)\s*(?P<value>-?[\d.]+(?:[eE][-+]?\d+)?)\s*$"
)
NAME = re.compile(r"^[A-Za-z][\w\-]*$")


@dataclass(frozen=True)
class Condition:
    """``metric op threshold``, e.g. ``f1 >= 0.7``."""

    metric: str
    op: str
    threshold: float

    def holds(self, value: float) -> bool:
        return {
            ">=": value >= self.threshold,
            ">": value > self.threshold,
            "<=": value <= self.threshold,
            "<": value < self.threshold,
            "==": value == self.threshold,
            "!=": value != self.threshold,
        }[self.op]

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g}"


@dataclass(frozen=True)
class Step:
    name: str
    kind: str
    needs: tuple[str, ...]
    settings: dict[str, Any]
    source: str = ""  # the step's input: the upstream step producing what this kind consumes

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "needs": list(self.needs),
            "settings": self.settings,
            "source": self.source,
        }


@dataclass(frozen=True)
class Pipeline:
    name: str
    experiment: str
    path: str
    steps: list[Step]  # in an order where every step comes after the steps it needs
    digest: str = field(default="")  # sha256 of the parsed definition

    def step(self, name: str) -> Step:
        return next(step for step in self.steps if step.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "experiment": self.experiment,
            "path": self.path,
            "steps": [step.to_dict() for step in self.steps],
        }


def load_pipeline(path: str | Path) -> Pipeline:
    """Read and check a pipeline file; an ``InvalidInput`` names the first mistake."""
    file = Path(path).expanduser().resolve()
    try:
        document = tomllib.loads(file.read_text())
    except FileNotFoundError:
        raise InvalidInput(f"pipeline file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"pipeline file {path} cannot be read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(f"{file.name} is not valid TOML: {error}") from None
    return parse_pipeline(document, file)


def parse_pipeline(document: dict[str, Any], file: Path) -> Pipeline:
    where = file.name
    unknown = set(document) - {"name", "experiment", "steps"}
    if unknown:
        raise InvalidInput(
            f"{where}: unknown key {sorted(unknown)[0]!r}; expected name, experiment and [steps.NAME]"
        )
    name = _text(document.get("name", file.stem), f"{where}: name")
    experiment = _text(document.get("experiment", name), f"{where}: experiment")
    raw_steps = document.get("steps")
    if not isinstance(raw_steps, dict) or not raw_steps:
        raise InvalidInput(f"{where}: no steps; expected at least one [steps.NAME] table")
    steps: list[Step] = []
    previous: str | None = None
    for step_name, raw in raw_steps.items():
        steps.append(_parse_step(where, step_name, raw, previous))
        previous = step_name
    ordered = _topological(where, steps)
    linked = [_with_source(where, step, ordered) for step in ordered]
    _check_register_is_gated(where, linked)
    pipeline = Pipeline(name, experiment, str(file), linked)
    digest = hashlib.sha256(json.dumps(pipeline.to_dict(), sort_keys=True, default=str).encode()).hexdigest()
    return Pipeline(name, experiment, str(file), linked, digest)


def _parse_step(where: str, name: str, raw: Any, previous: str | None) -> Step:
    here = f"{where}: step {name!r}"
    if not NAME.match(name):
        raise InvalidInput(f"{here}: a step name must start with a letter and hold letters, digits, - or _")
    if not isinstance(raw, dict):
        raise InvalidInput(f"{here}: expected a table of settings")
    kind = raw.get("kind", name if name in KINDS else None)
    if kind not in KINDS:
        raise InvalidInput(
            f"{here}: kind {kind!r} is not a step kind; expected one of {', '.join(KINDS)}"
            if kind
            else f"{here}: no kind; set kind = one of {', '.join(KINDS)}"
        )
    settings = {key: value for key, value in raw.items() if key not in ("kind", "needs")}
    allowed, required = KINDS[kind]
    for key in settings:
        if key not in allowed:
            expected = ", ".join(sorted(allowed | {"kind", "needs"}))
            raise InvalidInput(f"{here}: unknown key {key!r} for a {kind} step; expected {expected}")
    missing = sorted(required - set(settings))
    if missing:
        raise InvalidInput(f"{here}: a {kind} step needs {missing[0]!r}")
    needs_raw = raw.get("needs", [previous] if previous else [])
    if not isinstance(needs_raw, list) or not all(isinstance(item, str) for item in needs_raw):
        raise InvalidInput(f'{here}: needs must be a list of step names, like needs = ["train"]')
    _check_settings(here, kind, settings)
    return Step(name, kind, tuple(needs_raw), settings)


def _check_settings(here: str, kind: str, settings: dict[str, Any]) -> None:
    """Types and combinations a kind requires, checked before anything runs."""
    for key, value in settings.items():
        if key in ("features", "feature_views", "deps", "require"):
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise InvalidInput(f"{here}: {key} must be a list of strings")
        elif key == "params":
            if not isinstance(value, dict):
                raise InvalidInput(f"{here}: params must be a table, like params = {{ n_estimators = 200 }}")
        elif key == "test_size":
            if not isinstance(value, float | int) or not 0 < value < 1:
                raise InvalidInput(f"{here}: test_size {value!r}; expected a number between 0 and 1")
        elif key == "seed":
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidInput(f"{here}: seed {value!r}; expected an integer")
        elif key == "split":
            if value not in ("random", "time"):
                raise InvalidInput(f"{here}: split {value!r}; expected 'random' or 'time'")
        elif key == "beats_champion":
            _check_beats_champion(here, value)
        elif key == "promotion_gates":
            if not isinstance(value, bool):
                raise InvalidInput(f"{here}: promotion_gates {value!r}; expected true or false")
        elif not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{here}: {key} must be a non-empty string")
    if kind == "load":
        sources = [key for key in ("dataset", "query", "entities") if key in settings]
        if len(sources) != 1:
            raise InvalidInput(
                f"{here}: a load step needs exactly one of dataset, query or entities (with feature_views)"
            )
        if sources[0] in ("query", "entities") and "output" not in settings:
            raise InvalidInput(f'{here}: a {sources[0]} load needs output = "NAME", the dataset it stores')
        if sources[0] == "entities" and not settings.get("feature_views"):
            raise InvalidInput(f'{here}: an entities load needs feature_views = ["view:feature", ...]')
        if sources[0] == "dataset" and ({"output", "feature_views"} & set(settings)):
            raise InvalidInput(f"{here}: a dataset load takes no output or feature_views")
    if kind == "gate":
        if not (
            settings.get("require") or "beats_champion" in settings or settings.get("promotion_gates", True)
        ):
            raise InvalidInput(
                f'{here}: a gate needs promotion_gates = true, require = ["f1 >= 0.7", ...] or beats_champion'
            )
        for index, text in enumerate(settings.get("require", [])):
            parse_condition(text, f"{here}: require[{index}]")


def _check_beats_champion(here: str, value: Any) -> None:
    if not isinstance(value, dict) or not isinstance(value.get("model_name"), str):
        raise InvalidInput(
            f"{here}: beats_champion must be a table like "
            '{ model_name = "churn", metric = "f1", margin = 0.01 }'
        )
    unknown = set(value) - {"model_name", "metric", "margin"}
    if unknown:
        raise InvalidInput(
            f"{here}: beats_champion has unknown key {sorted(unknown)[0]!r}; "
            "expected model_name, metric, margin"
        )
    margin = value.get("margin", 0.0)
    if not isinstance(margin, float | int) or isinstance(margin, bool) or margin <= -1:
        raise InvalidInput(
            f"{here}: beats_champion.margin {margin!r}; expected a number above -1 (how much the"
            " challenger must beat the champion by; a negative one lets a slightly worse one pass)"
        )


def parse_condition(text: str, where: str) -> Condition:
    match = CONDITION.match(text)
    if match is None:
        raise InvalidInput(
            f"{where} {text!r} is not a condition; expected METRIC OP NUMBER, like 'f1 >= 0.7'"
        )
    return Condition(match["metric"], match["op"], float(match["value"]))


def _topological(where: str, steps: list[Step]) -> list[Step]:
    """Steps ordered so each follows its needs (file order among equals); cycles are errors."""
    by_name = {step.name: step for step in steps}
    for step in steps:
        for need in step.needs:
            if need not in by_name:
                raise InvalidInput(f"{where}: step {step.name!r} needs {need!r}, which is not a step")
            if need == step.name:
                raise InvalidInput(f"{where}: step {step.name!r} needs itself")
    ordered: list[Step] = []
    placed: set[str] = set()
    while len(ordered) < len(steps):
        ready = [s for s in steps if s.name not in placed and set(s.needs) <= placed]
        if not ready:
            stuck = [s.name for s in steps if s.name not in placed]
            raise InvalidInput(f"{where}: steps {', '.join(stuck)} need each other in a cycle")
        ordered.append(ready[0])
        placed.add(ready[0].name)
    return ordered


def ancestors(step: Step, steps: list[Step]) -> list[Step]:
    """Every step ``step`` runs after, directly or not, nearest first."""
    by_name = {s.name: s for s in steps}
    found: list[Step] = []
    frontier = list(step.needs)
    while frontier:
        name = frontier.pop(0)
        if name in (s.name for s in found):
            continue
        found.append(by_name[name])
        frontier.extend(by_name[name].needs)
    return found


def _with_source(where: str, step: Step, steps: list[Step]) -> Step:
    wanted = INPUT_KIND.get(step.kind)
    if wanted is None:
        return step
    candidates = [s.name for s in ancestors(step, steps) if s.kind == wanted]
    if not candidates:
        raise InvalidInput(
            f"{where}: step {step.name!r} ({step.kind}) needs a {wanted} step upstream (through needs)"
        )
    if len(candidates) > 1:
        raise InvalidInput(
            f"{where}: step {step.name!r} has {len(candidates)} {wanted} steps upstream "
            f"({', '.join(candidates)}); narrow its needs to one"
        )
    return Step(step.name, step.kind, step.needs, step.settings, candidates[0])


def _check_register_is_gated(where: str, steps: list[Step]) -> None:
    """A register step must come after at least one gate: a pipeline never registers a model
    that nothing checked."""
    for step in steps:
        if step.kind == "register" and not any(s.kind == "gate" for s in ancestors(step, steps)):
            raise InvalidInput(
                f"{where}: register step {step.name!r} must come after a gate step (through needs)"
            )


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not NAME.match(value):
        raise InvalidInput(
            f"{where} {value!r}; expected a name of letters, digits, - or _ starting with a letter"
        )
    return value
