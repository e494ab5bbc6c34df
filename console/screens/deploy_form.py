"""The Serving screen's new-deployment form and what its answers become: the arguments of
``engine.deployments.deploy``, as `mlops deploy` takes them (the engine checks the rest)."""

from __future__ import annotations

from typing import Any

from console.widgets.dialogs import Field
from engine.errors import InvalidInput

STRATEGIES = ("single", "canary", "shadow", "bluegreen", "ab")
SECOND_OPTION = {"canary": "canary", "shadow": "shadow", "bluegreen": "staged", "ab": "ab"}
DEFAULT_SHARE = {"canary": 10.0, "ab": 50.0}


def deploy_fields(endpoints: tuple[str, ...], references: tuple[str, ...]) -> list[Field]:
    return [
        Field(
            "endpoint",
            "Endpoint (a new one, or → completes one to replace)",
            choices=endpoints,
            typed=True,
            placeholder="churn-api",
        ),
        Field("model", "Model (primary; blue for blue/green)", choices=references),
        Field("strategy", "Strategy", value="single", choices=STRATEGIES),
        Field("second", "Second model (canary, shadow, green or B)", choices=references, required=False),
        Field("share", "Canary percent, or B's share (default 10, 50)", required=False),
        Field("key", "A/B: the entity column that splits (X-Entity)", required=False),
    ]


def deploy_arguments(values: dict[str, str]) -> dict[str, Any]:
    """The form's answers as ``deploy``'s keyword arguments (endpoint and model included)."""
    strategy, second = values["strategy"], values["second"]
    arguments: dict[str, Any] = {"endpoint": values["endpoint"], "model": values["model"]}
    if strategy == "single":
        if second:
            raise InvalidInput("a single deployment serves one model: clear the second or choose a strategy")
        return arguments
    if not second:
        raise InvalidInput(f"{strategy} needs a second model")
    arguments[SECOND_OPTION[strategy]] = second
    if strategy in DEFAULT_SHARE:
        try:
            share = float(values["share"]) if values["share"] else DEFAULT_SHARE[strategy]
        except ValueError:
            raise InvalidInput(f"share {values['share']!r}: expected a percent, e.g. 10") from None
        arguments["percent" if strategy == "canary" else "split"] = share
    if strategy == "ab":
        if not values["key"]:
            raise InvalidInput("an A/B test needs the entity column that splits it, e.g. customer_id")
        arguments["key"] = values["key"]
    return arguments
