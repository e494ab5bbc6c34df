"""``engine.drift``: data drift between two sources (dataset versions, a model's training data,
an endpoint's live traffic: sources.py), as Evidently 0.7's DataDriftPreset decides it,
computed from DuckDB and numpy (statistics.py) instead of pandas frames.

Which columns are tested and as what follows Evidently's inference on the current data: a
float is a number; an integer is a category with 10 distinct values or fewer, else a number;
text and booleans are categories, except text with more distinct values than half its rows,
which Evidently would test as free text (ids, names) and is skipped here; times are skipped.
Each column's values are read cleaned, nulls and infinities dropped in SQL, and an integer
column stays integer only where the sample had no null (pandas, which Evidently reads, turns
such a column into floats, and the Sturges bins differ between the two).

The dataset drifts when at least ``drift_share`` (0.5) of the tested columns drift. A column
with no values left in either sample is skipped with the reason; Evidently would fail the
whole report.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from engine.data.datasets import Datasets
from engine.db import Database
from engine.errors import InvalidInput
from engine.identifiers import quote
from engine.monitoring import bucketed, sources
from engine.monitoring.sources import ModelData, Source
from engine.monitoring.statistics import (
    FEW_VALUES,
    SMALL_REFERENCE_ROWS,
    TESTS,
    Kind,
    Sample,
    default_test,
)
from engine.types.monitoring import SCORE_BINS, ColumnDrift, DriftReport, ScoreHistogram

if TYPE_CHECKING:
    import duckdb
    import numpy as np

DRIFT_SHARE = 0.5
KEPT_SAMPLES = 256
WINDOW = "drift_window"  # the name a live window read once has on the cursors that test it
CATEGORY_INTEGER_LIMIT = 10  # Evidently's INTEGER_CARDINALITY_LIMIT
FLOAT_TYPES = ("FLOAT", "DOUBLE", "DECIMAL", "REAL")
INTEGER_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
)


@dataclass(frozen=True)
class _Column:
    name: str
    kind: Kind | None  # None: skipped
    reason: str = ""


class Drift:
    def __init__(self, db: Database, datasets: Datasets, model_data: ModelData) -> None:
        self._db = db
        self._datasets = datasets
        self._model_data = model_data
        # Reference samples already read, by (content hash, column, kind): a version never
        # changes, so a long-lived owner checking windows against one reads it once.
        self._kept: OrderedDict[tuple[str, str, str], Sample] = OrderedDict()
        self._keeping = threading.Lock()  # the columns of a check are read on several threads

    def check(
        self,
        reference: str,
        current: str,
        columns: list[str] | None = None,
        methods: dict[str, str] | None = None,
        thresholds: dict[str, float] | None = None,
        drift_share: float = DRIFT_SHARE,
        since: str | None = None,
        html: str | None = None,
    ) -> DriftReport:
        """Test each column of ``current`` against ``reference`` (``NAME@vN``,
        ``model:NAME@ALIAS`` or ``live:ENDPOINT``, the last within ``since``). ``methods`` and
        ``thresholds`` override the defaults per column; the key ``"*"`` applies to every
        column (a column's own entry wins). ``html``: also write Evidently's own report there."""
        started = time.perf_counter()
        methods, thresholds = methods or {}, thresholds or {}
        before, after = (self._read_once(source) for source in self._sources(reference, current, since))
        chosen = self._columns(before, after, columns)
        _check_overrides(methods, thresholds, [c.name for c in chosen])
        skipped = {c.name: c.reason for c in chosen if c.kind is None}
        tested = [column for column in chosen if column.kind is not None]
        with ThreadPoolExecutor(min(4, os.cpu_count() or 1)) as pool:
            outcomes = list(
                pool.map(lambda column: self._column(before, after, column, methods, thresholds), tested)
            )
        results: dict[str, ColumnDrift] = {}
        for column, outcome in zip(tested, outcomes, strict=True):
            if isinstance(outcome, str):
                skipped[column.name] = outcome
            else:
                results[column.name] = outcome
        drifted = sum(result.drifted for result in results.values())
        share = drifted / len(results) if results else 0.0  # nothing testable: no drift to report
        reference_scores, current_scores = self._scores(before), self._scores(after)
        prediction = self._beside(reference_scores, current_scores, "number")
        target = self._beside(self._labels(before), self._labels(after), "category")
        written = self._write_html(before, after, results, drift_share, html) if html and results else None
        return DriftReport(
            before.label,
            after.label,
            share >= drift_share,
            drift_share,
            share,
            drifted,
            results,
            skipped,
            time.perf_counter() - started,
            written,
            prediction,
            target,
            _histogram(reference_scores, current_scores),
        )

    def _column(
        self,
        before: Source,
        after: Source,
        column: _Column,
        methods: dict[str, str],
        thresholds: dict[str, float],
    ) -> ColumnDrift | str:
        """One column's test (run on a worker thread: DuckDB and numpy's sorts and sums release
        the GIL, so the columns of a check share the cores), or why it cannot be tested."""
        reference_values = self._kept_sample(before, column)
        if not reference_values.size:
            return "no values in the reference data (all null or infinite)"
        if column.kind == "number":
            large = self._large_window_distance(reference_values, after, column, methods, thresholds)
            if large is not None:
                return large
        current_values = self._sample(after, column)
        if not current_values.size:
            return "no values in the current data (all null or infinite)"
        return _tested(column, reference_values, current_values, methods, thresholds)

    def _large_window_distance(
        self,
        reference: Sample,
        after: Source,
        column: _Column,
        methods: dict[str, str],
        thresholds: dict[str, float],
    ) -> ColumnDrift | None:
        """Wasserstein over a large window without sorting it (bucketed.py), where that is the
        test (the default for a large reference of more than 5 values, or the one asked for);
        None where the column needs the usual path."""
        method = methods.get(column.name) or methods.get("*")
        if method not in (None, "wasserstein") or reference.values is None:
            return None
        if method is None and not (
            reference.size > SMALL_REFERENCE_ROWS and reference.has_more_distinct_than(FEW_VALUES)
        ):
            return None
        if len(reference.keys) < bucketed.DISTINCT_VALUES:
            return None  # few values, many ties: the CDFs meet in most buckets, and sorting is cheaper
        quoted = quote(column.name)
        with self._reading(after) as cursor:
            window = bucketed.window_range(cursor, after.relation, quoted, _clean(quoted, numeric=True))
            if window.count < bucketed.LARGE_WINDOW:
                return None
            area = bucketed.distance(
                reference.values, window, cursor, after.relation, quoted, _clean(quoted, numeric=True)
            )
        if area is None:
            return None
        test = TESTS["wasserstein"]
        threshold = thresholds.get(column.name, thresholds.get("*", test.default_threshold))
        statistic = area / max(reference.spread, 0.001)
        drifted = test.drifted(statistic, threshold)
        return ColumnDrift(
            "wasserstein", statistic, threshold, drifted, "number", reference.size, window.count
        )

    def _read_once(self, source: Source) -> Source:
        """A live window read into memory once, as Arrow (its rows are JSON in the prediction
        log, which each column's queries would otherwise extract again); a version as it is."""
        if source.key is not None:
            return source
        with self._db.cursor() as cursor:
            rows = cursor.sql(f"SELECT * FROM {source.relation}").to_arrow_table()
        return replace(source, relation=WINDOW, rows=rows)

    @contextmanager
    def _reading(self, source: Source) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor that can read ``source.relation`` (a window read once is registered on it)."""
        with self._db.cursor() as cursor:
            if source.rows is not None:
                cursor.register(WINDOW, source.rows)
            yield cursor

    @staticmethod
    def _beside(reference: Sample | None, current: Sample | None, kind: Kind) -> ColumnDrift | None:
        """Prediction or target drift, by Evidently's default test, where both sides have it."""
        if reference is None or current is None or not reference.size or not current.size:
            return None
        return _tested(
            _Column("prediction" if kind == "number" else "target", kind), reference, current, {}, {}
        )

    def _scores(self, source: Source) -> Sample | None:
        """The positive class's probabilities: logged (live), or the model's own on its training
        data (kept per model version and file)."""
        import numpy as np

        if source.scores is not None:
            with self._db.cursor() as cursor:
                found = cursor.execute(
                    f"SELECT value FROM ({source.scores}) WHERE value IS NOT NULL ORDER BY value"
                )
                return Sample.of_sorted(np.asarray(found.fetchnumpy()["value"], dtype=np.float64))
        facts = source.model
        if facts is None:
            return None
        key = (f"{facts.name}@v{facts.version}:{facts.sha256}", "(scores)", "number")
        kept = self._kept.get(key)
        if kept is None:
            from engine.serving.model import ServedModel

            model = ServedModel.load(facts.name, facts.version, facts.onnx_path, facts.sha256)
            selected = ", ".join(quote(feature.column) for feature in model.features)
            with self._reading(source) as cursor:
                rows = [
                    list(row)
                    for row in cursor.execute(f"SELECT {selected} FROM {source.relation}").fetchall()
                ]
            scores = (
                np.array([prediction.score for prediction in model.run(rows)], dtype=np.float64)
                if rows
                else np.array([])
            )
            kept = self._kept[key] = Sample.of_sorted(np.sort(scores))
        return kept

    def _labels(self, source: Source) -> Sample | None:
        import numpy as np

        if source.labels is None:
            return None
        with self._db.cursor() as cursor:
            counted = cursor.execute(f"SELECT value, count(*) FROM ({source.labels}) GROUP BY ALL").fetchall()
        return Sample([value for value, _ in counted], np.array([count for _, count in counted], dtype=float))

    def _sources(self, reference: str, current: str, since: str | None) -> tuple[Source, Source]:
        if sources.is_live(reference) and sources.is_live(current):
            raise InvalidInput(
                "a live window is tested against data: make --reference a dataset or model:NAME@ALIAS"
            )
        if since is not None and not (sources.is_live(reference) or sources.is_live(current)):
            raise InvalidInput("--since applies to a live:ENDPOINT source")
        if sources.is_live(current):
            before = sources.resolve(reference, self._datasets, self._model_data)
            return before, sources.live(current, since, before)
        after = sources.resolve(current, self._datasets, self._model_data)
        if sources.is_live(reference):
            return sources.live(reference, since, after), after
        return sources.resolve(reference, self._datasets, self._model_data), after

    def _write_html(
        self, before: Source, after: Source, results: dict[str, ColumnDrift], drift_share: float, path: str
    ) -> str:
        """Evidently's own HTML report for the same data, columns and tests (Evidently stays the
        reference renderer; it is imported only here)."""
        from evidently import DataDefinition, Dataset, Report
        from evidently.presets import DataDriftPreset

        numbers = [name for name, result in results.items() if result.kind == "number"]
        categories = [name for name, result in results.items() if result.kind == "category"]
        definition = DataDefinition(
            numerical_columns=numbers, categorical_columns=categories, text_columns=[]
        )
        selected = ", ".join(quote(name) for name in numbers + categories)
        frames = []
        for source in (after, before):
            with self._reading(source) as cursor:
                frames.append(cursor.execute(f"SELECT {selected} FROM {source.relation}").df())
        preset = DataDriftPreset(
            columns=numbers + categories,
            per_column_method={name: result.method for name, result in results.items()},
            per_column_threshold={name: result.threshold for name, result in results.items()},
            drift_share=drift_share,
        )
        snapshot = Report([preset]).run(
            Dataset.from_pandas(frames[0], data_definition=definition),
            Dataset.from_pandas(frames[1], data_definition=definition),
        )
        target = Path(path)
        snapshot.save_html(str(target))
        return str(target)

    def _columns(self, before: Source, after: Source, wanted: list[str] | None) -> list[_Column]:
        """The columns to test, current's first, each with its kind or why it is not tested."""
        current_types, reference_types = dict(after.schema), dict(before.schema)
        names = [*after.columns, *(name for name in before.columns if name not in current_types)]
        if wanted is not None:
            unknown = [name for name in wanted if name not in names]
            if unknown:
                raise InvalidInput(
                    f"--columns {', '.join(unknown)}: not a column of {before.label} or {after.label}; "
                    f"they have {', '.join(names)}"
                )
            names = wanted
        chosen = []
        for name in names:
            if name not in current_types:
                chosen.append(_Column(name, None, "missing from the current data"))
            elif name not in reference_types:
                chosen.append(_Column(name, None, "missing from the reference data"))
            else:
                chosen.append(self._kind(after, name, current_types[name]))
        return chosen

    def _kind(self, version: Source, name: str, sql_type: str) -> _Column:
        upper = sql_type.upper()
        if upper.startswith(FLOAT_TYPES):
            return _Column(name, "number")
        if upper == "BOOLEAN":
            return _Column(name, "category")
        if upper.startswith(INTEGER_TYPES):
            distinct, _ = self._distinct(version, name)
            return _Column(name, "category" if distinct <= CATEGORY_INTEGER_LIMIT else "number")
        if upper == "VARCHAR":
            distinct, present = self._distinct(version, name)
            if distinct > 0.5 * present:
                return _Column(
                    name, None, "text with more distinct values than half its rows (an id or free text)"
                )
            return _Column(name, "category")
        return _Column(name, None, f"a {sql_type} column (times and other types are not tested)")

    def _distinct(self, version: Source, name: str) -> tuple[int, int]:
        with self._reading(version) as cursor:
            row = cursor.execute(
                f"SELECT count(DISTINCT {quote(name)}), count({quote(name)}) FROM {version.relation}"
            ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    def _kept_sample(self, version: Source, column: _Column) -> Sample:
        assert column.kind is not None
        if version.key is None:
            return self._sample(version, column)
        key = (version.key, column.name, column.kind)
        with self._keeping:
            sample = self._kept.get(key)
        if sample is None:
            sample = self._sample(version, column)
            with self._keeping:
                self._kept[key] = sample
                while len(self._kept) > KEPT_SAMPLES:
                    self._kept.popitem(last=False)
        return sample

    def _sample(self, version: Source, column: _Column) -> Sample:
        """The column cleaned (nulls and infinities dropped): for a number all its values, for
        a category only its counts (a GROUP BY in DuckDB). An integer column with a null is
        read as floats, as in the pandas frame Evidently would read."""
        import numpy as np

        quoted = quote(column.name)
        sql_type = dict(version.schema)[column.name].upper()
        numeric = sql_type.startswith(FLOAT_TYPES + INTEGER_TYPES)
        where = _clean(quoted, numeric)
        with self._reading(version) as cursor:
            as_floats = sql_type.startswith(FLOAT_TYPES) or (
                numeric and _has_null(cursor, version.relation, quoted)
            )
            if column.kind == "number":
                values = cursor.execute(
                    f"SELECT {quoted} FROM {version.relation} WHERE {where} ORDER BY {quoted}"
                ).fetchnumpy()
                array = np.asarray(values[column.name])
                return Sample.of_sorted(array.astype(np.float64 if as_floats else np.int64, copy=False))
            counted = cursor.execute(
                f"SELECT {quoted}, count(*) FROM {version.relation} WHERE {where} GROUP BY ALL"
            ).fetchall()
        keys = [float(key) if as_floats else key for key, _ in counted]
        return Sample(keys, np.array([count for _, count in counted], dtype=float))


def _clean(quoted: str, numeric: bool) -> str:
    """The condition that keeps a column's values Evidently would test (no nulls; for numbers no
    NaN or infinities)."""
    return f"{quoted} IS NOT NULL" + (f" AND isfinite(CAST({quoted} AS DOUBLE))" if numeric else "")


def _has_null(cursor: duckdb.DuckDBPyConnection, relation: str, quoted: str) -> bool:
    found = cursor.execute(f"SELECT count(*) FILTER (WHERE {quoted} IS NULL) FROM {relation}").fetchone()
    return bool(found and found[0])


def _tested(
    column: _Column,
    reference: Sample,
    current: Sample,
    methods: dict[str, str],
    thresholds: dict[str, float],
) -> ColumnDrift:
    assert column.kind is not None
    method = methods.get(column.name) or methods.get("*") or default_test(reference, current, column.kind)
    test = TESTS[method]
    if column.kind not in test.kinds and method in {methods.get(column.name), methods.get("*")}:
        raise InvalidInput(
            f"--method {column.name}={method}: {method} tests {' and '.join(sorted(test.kinds))} columns, "
            f"and {column.name} is a {column.kind} column"
        )
    threshold = thresholds.get(column.name, thresholds.get("*", test.default_threshold))
    statistic = test.compute(reference, current, column.kind)
    return ColumnDrift(
        method,
        statistic,
        threshold,
        test.drifted(statistic, threshold),
        column.kind,
        reference.size,
        current.size,
    )


def _check_overrides(methods: dict[str, str], thresholds: dict[str, float], columns: list[str]) -> None:
    for name, method in methods.items():
        if method not in TESTS:
            raise InvalidInput(f"--method {name}={method}: expected one of {', '.join(TESTS)}")
    for name in [*methods, *thresholds]:
        if name != "*" and name not in columns:
            raise InvalidInput(f"{name}: no such column to test; the columns are {', '.join(columns)}")
    for name, threshold in thresholds.items():
        if not threshold > 0:
            raise InvalidInput(f"--threshold {name}={threshold}: expected a number above 0")


def _histogram(reference: Sample | None, current: Sample | None) -> ScoreHistogram | None:
    """Both sides' scores in equal bins of [0, 1] (each side sorted already: a search per edge)."""
    if reference is None or current is None or reference.values is None or current.values is None:
        return None
    if not reference.size or not current.size:
        return None
    return ScoreHistogram(_shares(reference.values), _shares(current.values), reference.size, current.size)


def _shares(ordered: np.ndarray) -> list[float]:
    import numpy as np

    edges = np.linspace(0.0, 1.0, SCORE_BINS + 1)[1:-1]
    cuts = np.concatenate(([0], np.searchsorted(ordered, edges, side="left"), [len(ordered)]))
    return [round(float(count) / len(ordered), 6) for count in np.diff(cuts)]
