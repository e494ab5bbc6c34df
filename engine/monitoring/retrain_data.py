"""The newest data to retrain a champion on, as a real team would take it: the rows it was
trained on plus the endpoint's labelled production rows, stored as a new version of the same
dataset whose source names both (its lineage).

A production row is a prediction the endpoint answered (not a shadow's, which repeats the
primary's input) whose late label has come (engine/serving/labels.py): its logged features,
each cast to the training column's type, and its label as the target. The entity the request
named (``X-Entity``) fills the column of that name, and its event time the version's time
column (its one TIMESTAMP column), so a row can be traced to the batch it was replayed from. A
row whose entity and time belong to a dataset version that failed validation (or was
quarantined) is left out: a batch that failed never enters the training data.

A version this builds is the base of no later one: a later turn starts again from the data the
first champion was trained on (``root``), so production rows are never counted twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.data.datasets import Datasets
from engine.db import Database
from engine.identifiers import json_path, quote, string_literal
from engine.serving.labels import label_text_sql
from engine.types.data import DatasetVersion

FAILED_STATUSES = ("failed", "quarantined")


@dataclass(frozen=True)
class RetrainData:
    version: str  # NAME@vN: the new version, or the base when there were no new rows
    base: str
    production_rows: int
    excluded_rows: int  # labelled rows left out: their batch failed validation

    def evidence(self) -> dict[str, object]:
        return {
            "version": self.version,
            "base": self.base,
            "production_rows": self.production_rows,
            "excluded_rows": self.excluded_rows,
        }


class RetrainDataBuilder:
    def __init__(self, db: Database, datasets: Datasets, root: Callable[[str], str]) -> None:
        self._db = db
        self._datasets = datasets
        self._root = root  # the version a loop-built version was built from, else itself

    def build(
        self, endpoint: str, trained_on: str, target: str, features: list[str], turn: int
    ) -> RetrainData:
        """The training data of a champion trained on ``trained_on`` with its ``target`` and
        ``features``, plus ``endpoint``'s labelled production rows; stored if there are any."""
        base = self._datasets.resolve(self._root(trained_on))
        labelled = _labelled_rows(endpoint)
        kept = " AND ".join(f"NOT {_in_batch(version)}" for version in self._failed_batches()) or "TRUE"
        with self._db.cursor() as cursor:
            counted = cursor.execute(
                f"SELECT count(*), count(*) FILTER (WHERE {kept}) FROM {labelled}"
            ).fetchone()
        assert counted is not None
        everything, new_rows = int(counted[0]), int(counted[1])
        if new_rows == 0:
            return RetrainData(base.ref, base.ref, 0, everything)
        projection = ", ".join(
            _production_column(name, kind, base, target, features) for name, kind in base.schema
        )
        columns = ", ".join(quote(name) for name, _ in base.schema)
        sql = (
            f"SELECT {columns} FROM {base.relation}"
            f" UNION ALL SELECT {projection} FROM {labelled} WHERE {kept}"
        )
        left_out = everything - new_rows
        source = f"mlops loop turn {turn}: {base.ref} + {new_rows:,} labelled production rows of {endpoint}"
        if left_out:
            source += f" ({left_out:,} left out: their batch failed validation)"
        result = self._datasets.ingest_query(sql, base.name, source=source)
        return RetrainData(result.version.ref, base.ref, new_rows, left_out)

    def _failed_batches(self) -> list[DatasetVersion]:
        """Dataset versions that failed validation and have a time column to match rows by."""
        failed = []
        for summary in self._datasets.summaries():
            for version in self._datasets.versions(summary.name):
                if version.status in FAILED_STATUSES and _time_column(version) is not None:
                    failed.append(version)
        return failed


def _labelled_rows(endpoint: str) -> str:
    """The endpoint's answered, labelled predictions (features, entity, event time, label), as
    a relation to read FROM."""
    return (
        "(SELECT p.features, p.entity_key, p.entity, p.event_time, l.label FROM prediction_log p"
        ' JOIN prediction_labels l ON l.request_id = p.request_id AND l."row" = p."row"'
        f" WHERE p.endpoint = {string_literal(endpoint)} AND p.status = 200"
        " AND p.variant IS DISTINCT FROM 'shadow') labelled"
    )


def _in_batch(version: DatasetVersion) -> str:
    """Whether a labelled row's entity and event time are a row of ``version``."""
    time_column = _time_column(version)
    assert time_column is not None
    names = [name for name, _ in version.schema]
    entity = " OR ".join(
        f"(entity_key = {string_literal(name)} AND CAST(q.{quote(name)} AS VARCHAR) = entity)"
        for name in names
    )
    return (
        f"EXISTS (SELECT 1 FROM {version.relation} q"
        f" WHERE CAST(q.{quote(time_column)} AS TIMESTAMP) = event_time"
        f" AND ({entity or 'FALSE'}))"
    )


def _time_column(version: DatasetVersion) -> str | None:
    times = [name for name, kind in version.schema if kind.upper().startswith("TIMESTAMP")]
    return times[0] if len(times) == 1 else None


def _production_column(name: str, kind: str, base: DatasetVersion, target: str, features: list[str]) -> str:
    """A base column's value in a production row, as its type."""
    if name == target:
        value = label_text_sql("label")
    elif name in features:
        value = f"json_extract_string(features, {string_literal(json_path(name))})"
    elif name == _time_column(base):
        value = "event_time"
    else:
        value = f"CASE WHEN entity_key = {string_literal(name)} THEN entity END"
    return f"TRY_CAST({value} AS {kind}) AS {quote(name)}"
