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
from typing import Any

from engine.data.datasets import Datasets
from engine.errors import InvalidInput
from engine.identifiers import json_path, quote, string_literal
from engine.serving.labels import label_text_sql

LIVE = "live:"
MODEL = "model:"
DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class ModelFacts:
    """A registered model version as drift needs it: what it trained on and its ONNX file."""

    name: str
    version: int
    dataset: str  # NAME@vN
    features: list[str]
    target: str
    onnx_path: str
    sha256: str


# A registered model (NAME@ALIAS or NAME@vN) as drift needs it.
ModelData = Callable[[str], ModelFacts]


@dataclass(frozen=True)
class Source:
    """Rows to test, and beside them, where known, the model's scores (prediction drift) and
    the true labels as text (target drift)."""

    label: str
    relation: str  # a table or a parenthesised SELECT, to read FROM
    schema: list[tuple[str, str]]
    key: str | None  # what the columns can be kept by; None: they change
    scores: str | None = None  # a SELECT of one column, value: the positive class's probability
    labels: str | None = None  # a SELECT of one column, value: the true label as text
    model: ModelFacts | None = None  # a model whose scores on the rows stand for ``scores``
    rows: Any = None  # the rows read once (a pyarrow Table) that ``relation`` names on a cursor

    @property
    def columns(self) -> list[str]:
        return [name for name, _ in self.schema]


def is_live(reference: str) -> bool:
    return reference.startswith(LIVE)


def resolve(reference: str, datasets: Datasets, model_data: ModelData) -> Source:
    """A dataset version or a model's training data (not ``live:``: see ``live``)."""
    if reference.startswith(MODEL):
        facts = model_data(reference.removeprefix(MODEL))
        version = datasets.resolve(facts.dataset)
        schema = [(name, kind) for name, kind in version.schema if name in facts.features]
        labels = None
        if facts.target in version.columns:
            target = quote(facts.target)
            labels = (
                f"SELECT {label_text_sql(target)} AS value FROM {version.relation} WHERE {target} IS NOT NULL"
            )
        return Source(
            f"{reference} ({version.ref})",
            version.relation,
            schema,
            version.content_hash,
            None,
            labels,
            facts,
        )
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
        f"TRY_CAST(json_extract_string(features, {string_literal(json_path(name))}) AS {kind})"
        f" AS {quote(name)}"
        for name, kind in like.schema
    )
    answered = (
        f'p.endpoint = {string_literal(endpoint)} AND p.status = 200 AND p."row" IS NOT NULL'
        f" AND p.variant IS DISTINCT FROM 'shadow'{window.replace('logged_at', 'p.logged_at')}"
    )
    relation = f"(SELECT {values} FROM prediction_log p WHERE {answered})"
    scores = f"SELECT p.score AS value FROM prediction_log p WHERE {answered}"
    labels = (
        f"SELECT {label_text_sql('l.label')} AS value FROM prediction_log p"
        f' JOIN prediction_labels l ON l.request_id = p.request_id AND l."row" = p."row" WHERE {answered}'
    )
    return Source(label, relation, like.schema, None, scores, labels)


def seconds(since: str) -> int:
    """``90s``, ``30m``, ``1h``, ``2d``, ``1w`` in seconds."""
    found = DURATION.match(since.strip())
    if found is None:
        raise InvalidInput(f"--since {since}: expected a duration such as 30m, 1h, 2d or 1w")
    return max(1, round(float(found.group(1)) * SECONDS[found.group(2)]))
