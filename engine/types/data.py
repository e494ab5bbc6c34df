"""Datasets, their versions, profiles and diffs; validation suites and their reports."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from engine.identifiers import quote


def version_table(name: str, version: int) -> str:
    """The quoted relation holding a version's rows (``mlops data sql`` reads it by this name)."""
    return f"data.{quote(f'{name}@v{version}')}"


def latest_view(name: str) -> str:
    """The view of a dataset's latest version."""
    return f"data.{quote(name)}"


@dataclass(frozen=True)
class DatasetVersion:
    name: str
    version: int
    content_hash: str
    row_count: int
    column_count: int
    schema: list[tuple[str, str]]
    source_path: str
    parent_version: int | None
    created_at: datetime
    status: str  # unvalidated, passed, failed or quarantined

    @property
    def ref(self) -> str:
        return f"{self.name}@v{self.version}"

    @property
    def relation(self) -> str:
        return version_table(self.name, self.version)

    @property
    def columns(self) -> list[str]:
        return [name for name, _ in self.schema]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "ref": self.ref,
            "content_hash": self.content_hash,
            "row_count": self.row_count,
            "column_count": self.column_count,
            "schema": [{"name": name, "type": kind} for name, kind in self.schema],
            "source_path": self.source_path,
            "parent_version": self.parent_version,
            "created_at": self.created_at.isoformat(),
            "status": self.status,
        }


@dataclass(frozen=True)
class DatasetSummary:
    name: str
    versions: int
    latest: DatasetVersion
    required_suite: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "versions": self.versions,
            "required_suite": self.required_suite,
            "latest": self.latest.to_dict(),
        }


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    type: str
    count: int
    null_count: int
    null_share: float
    approx_distinct: int
    min: Any = None
    max: Any = None
    mean: float | None = None
    std: float | None = None
    quantiles: dict[str, Any] = field(default_factory=dict)
    top_values: list[tuple[Any, int]] = field(default_factory=list)
    histogram: list[tuple[float, float, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {key: jsonable(value) for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, item: Mapping[str, Any]) -> ColumnProfile:
        """A profile as stored (timestamps as ISO text, pairs as lists)."""
        return cls(
            **{
                **item,
                "top_values": [tuple(pair) for pair in item["top_values"]],
                "histogram": [tuple(bin_) for bin_ in item["histogram"]],
            }
        )


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool  # more rows existed than the limit


@dataclass(frozen=True)
class ColumnDelta:
    column: str
    statistic: str
    before: Any
    after: Any

    @property
    def change(self) -> float | None:
        numeric = (int, float)
        if isinstance(self.before, numeric) and isinstance(self.after, numeric):
            return float(self.after) - float(self.before)
        return None


@dataclass(frozen=True)
class VersionDiff:
    before: str
    after: str
    added_columns: list[tuple[str, str]]
    removed_columns: list[tuple[str, str]]
    retyped_columns: list[tuple[str, str, str]]  # column, type before, type after
    row_count_before: int
    row_count_after: int
    same_content: bool
    column_deltas: list[ColumnDelta]

    def to_dict(self) -> dict[str, Any]:
        return {
            "before": self.before,
            "after": self.after,
            "same_content": self.same_content,
            "schema": {
                "added": [{"name": n, "type": t} for n, t in self.added_columns],
                "removed": [{"name": n, "type": t} for n, t in self.removed_columns],
                "retyped": [{"name": n, "before": b, "after": a} for n, b, a in self.retyped_columns],
            },
            "rows": {
                "before": self.row_count_before,
                "after": self.row_count_after,
                "change": self.row_count_after - self.row_count_before,
            },
            "columns": [
                {
                    "column": d.column,
                    "statistic": d.statistic,
                    "before": jsonable(d.before),
                    "after": jsonable(d.after),
                    "change": d.change,
                }
                for d in self.column_deltas
            ],
        }


# -- validation ---------------------------------------------------------------------------

COLUMN_KWARGS = ("column", "column_A", "column_B")
COLUMN_LIST_KWARGS = ("column_list",)


@dataclass(frozen=True)
class Expectation:
    """One expectation of a suite: its GX type and kwargs, and its place in the suite for messages."""

    index: int
    type: str
    kwargs: Mapping[str, Any]

    @property
    def label(self) -> str:
        """How messages name this expectation: users count from one and know it by its type."""
        return f"expectation {self.index + 1} ({self.type})"

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns this expectation reads, as far as its kwargs say."""
        named = [self.kwargs[key] for key in COLUMN_KWARGS if isinstance(self.kwargs.get(key), str)]
        for key in COLUMN_LIST_KWARGS:
            listed = self.kwargs.get(key)
            if isinstance(listed, list):
                named.extend(column for column in listed if isinstance(column, str))
        return tuple(dict.fromkeys(named))


@dataclass(frozen=True)
class Suite:
    """A parsed suite; ``document`` is the JSON it came from, kept for the round trip with GX."""

    name: str
    expectations: tuple[Expectation, ...]
    document: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The suite's original GX JSON, as a copy the caller may change."""
        return copy.deepcopy(dict(self.document))


@dataclass(frozen=True)
class StoredSuite:
    name: str
    suite: Suite
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "expectations": len(self.suite.expectations),
            "updated_at": self.updated_at.isoformat(),
            "suite": self.suite.to_json(),
        }


RunPath = Literal["sql", "gx"]


@dataclass(frozen=True)
class ExpectationResult:
    """One expectation's outcome, in GX's terms; fields GX leaves out for a type stay ``None``.

    ``unexpected_percent`` is GX's: of the non-null values for column-map types, of all rows
    for not-null. ``path`` says which engine computed it.
    """

    type: str
    kwargs: Mapping[str, Any]
    success: bool
    path: RunPath
    observed_value: Any = None
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    partial_unexpected: tuple[Any, ...] = ()
    error: str | None = None

    @property
    def column(self) -> str | None:
        column = self.kwargs.get("column")
        return column if isinstance(column, str) else None


@dataclass(frozen=True)
class ValidationReport:
    """A suite's results over one relation, in the suite's order."""

    suite_name: str
    relation: str
    results: tuple[ExpectationResult, ...]

    @property
    def success(self) -> bool:
        return all(result.success for result in self.results)

    @property
    def failures(self) -> list[ExpectationResult]:
        return [result for result in self.results if not result.success]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (to store, or to print for ``--json``)."""
        return {
            "suite_name": self.suite_name,
            "relation": self.relation,
            "success": self.success,
            "results": [
                asdict(result)
                | {"kwargs": dict(result.kwargs), "partial_unexpected": list(result.partial_unexpected)}
                for result in self.results
            ],
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> ValidationReport:
        """A report as ``to_dict`` stored it."""
        return cls(
            suite_name=document["suite_name"],
            relation=document["relation"],
            results=tuple(
                ExpectationResult(**{**item, "partial_unexpected": tuple(item["partial_unexpected"])})
                for item in document["results"]
            ),
        )


@dataclass(frozen=True)
class NullTokenNote:
    """A column where text tokens (``NA``, ``N/A``, ``NaN``...) were read as nulls.

    Said after an ingest because it changes what a column is: without it, a numeric column
    holding one ``NA`` would be text; and a token may be real data (``NA``, Namibia).
    """

    column: str
    type: str  # the column's stored type
    tokens: tuple[tuple[str, int], ...]  # each token found and how often, the most frequent first

    @property
    def count(self) -> int:
        return sum(count for _, count in self.tokens)

    @property
    def text(self) -> str:
        """One line for a person, e.g. ``age: 12 values 'NA' read as null (DOUBLE)``."""
        values = "value" if self.count == 1 else "values"
        if len(self.tokens) == 1:
            found = repr(self.tokens[0][0])
        else:
            found = "(" + ", ".join(f"{token!r} {count:,}" for token, count in self.tokens) + ")"
        return f"{self.column}: {self.count:,} {values} {found} read as null ({self.type})"

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "type": self.type, "count": self.count, "tokens": dict(self.tokens)}


@dataclass(frozen=True)
class IngestResult:
    version: DatasetVersion
    created: bool  # False: identical content existed, that version is returned
    validation: ValidationReport | None = None  # the required suite's verdict on a new version
    null_tokens: tuple[str, ...] | None = None  # what a text file's reader took for null; None: not text
    nulls_from_tokens: tuple[NullTokenNote, ...] = ()  # columns where non-empty tokens became nulls

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.version.to_dict(),
            "created": self.created,
            "validation": self.validation.to_dict() if self.validation else None,
            "null_tokens": None if self.null_tokens is None else list(self.null_tokens),
            "nulls_from_tokens": [note.to_dict() for note in self.nulls_from_tokens],
        }


def jsonable(value: Any) -> Any:
    """Dates and times as ISO text, containers walked; everything else as it is."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value
