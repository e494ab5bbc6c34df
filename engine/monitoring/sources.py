"""What a drift check reads: a dataset version, the live traffic of an endpoint, or the data a
model was trained on, each as a DuckDB relation with its columns' types.

- ``NAME@vN`` (or ``NAME``, the latest): the version's rows.
- ``model:NAME@ALIAS`` (or ``model:NAME@vN``): the dataset version the registered model's run
  trained on, only the model's feature columns.
- ``live:ENDPOINT``: the inputs the endpoint answered, from the prediction log (its rows'
  feature objects, each value cast to the type the other side's column has; shadows left out,
  since they repeat the primary's inputs), within ``since`` of now when given.

A version never changes, so its columns can be kept by content hash (``key``); a live window
can not (``key`` is None).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from engine.data.datasets import Datasets
from engine.errors import InvalidInput
from engine.identifiers import quote

LIVE = "live:"
MODEL = "model:"
DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

# A registered model's training data: (dataset version, feature columns) for NAME@ALIAS.
ModelData = Callable[[str], tuple[str, list[str]]]


@dataclass(frozen=True)
class Source:
    label: str
    relation: str  # a table or a parenthesised SELECT, to read FROM
    schema: list[tuple[str, str]]
    key: str | None  # what the columns can be kept by; None: they change

    @property
    def columns(self) -> list[str]:
        return [name for name, _ in self.schema]


def is_live(reference: str) -> bool:
    return reference.startswith(LIVE)


def resolve(reference: str, datasets: Datasets, model_data: ModelData) -> Source:
    """A dataset version or a model's training data (not ``live:``: see ``live``)."""
    if reference.startswith(MODEL):
        dataset, features = model_data(reference.removeprefix(MODEL))
        version = datasets.resolve(dataset)
        schema = [(name, kind) for name, kind in version.schema if name in features]
        return Source(f"{reference} ({version.ref})", version.relation, schema, version.content_hash)
    version = datasets.resolve(reference)
    return Source(version.ref, version.relation, version.schema, version.content_hash)


def live(reference: str, since: str | None, like: Source) -> Source:
    """The endpoint's answered inputs (within ``since`` of now), with ``like``'s columns and types."""
    endpoint = reference.removeprefix(LIVE)
    if not endpoint:
        raise InvalidInput(f"{reference!r}: expected live:ENDPOINT, e.g. live:churn-predictor")
    window = ""
    label = reference
    if since is not None:
        window = f" AND logged_at >= now() - INTERVAL {seconds(since)} SECOND"
        label = f"{reference} (last {since})"
    values = ", ".join(
        f"TRY_CAST(json_extract_string(features, {_literal(_json_path(name))}) AS {kind}) AS {quote(name)}"
        for name, kind in like.schema
    )
    relation = (
        f"(SELECT {values} FROM prediction_log WHERE endpoint = {_literal(endpoint)} AND status = 200"
        f" AND \"row\" IS NOT NULL AND variant IS DISTINCT FROM 'shadow'{window})"
    )
    return Source(label, relation, like.schema, None)


def seconds(since: str) -> int:
    """``90s``, ``30m``, ``1h``, ``2d``, ``1w`` in seconds."""
    found = DURATION.match(since.strip())
    if found is None:
        raise InvalidInput(f"--since {since}: expected a duration such as 30m, 1h, 2d or 1w")
    return max(1, round(float(found.group(1)) * SECONDS[found.group(2)]))


def _json_path(name: str) -> str:
    return '$."' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
