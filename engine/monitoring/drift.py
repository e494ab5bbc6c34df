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

import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from engine.data.datasets import Datasets
from engine.db import Database
from engine.errors import InvalidInput
from engine.identifiers import quote
from engine.monitoring import sources
from engine.monitoring.sources import ModelData, Source
from engine.monitoring.statistics import TESTS, Kind, Sample, default_test
from engine.types.monitoring import ColumnDrift, DriftReport

DRIFT_SHARE = 0.5
KEPT_SAMPLES = 256
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
        before, after = self._sources(reference, current, since)
        chosen = self._columns(before, after, columns)
        _check_overrides(methods, thresholds, [c.name for c in chosen])
        results: dict[str, ColumnDrift] = {}
        skipped = {c.name: c.reason for c in chosen if c.kind is None}
        for column in chosen:
            if column.kind is None:
                continue
            reference_values = self._kept_sample(before, column)
            current_values = self._sample(after, column)
            if not reference_values.size or not current_values.size:
                empty = "reference" if not reference_values.size else "current"
                skipped[column.name] = f"no values in the {empty} data (all null or infinite)"
                continue
            results[column.name] = _tested(column, reference_values, current_values, methods, thresholds)
        drifted = sum(result.drifted for result in results.values())
        share = drifted / len(results) if results else 0.0  # nothing testable: no drift to report
        prediction = self._beside(self._scores(before), self._scores(after), "number")
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
        )

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
            with self._db.cursor() as cursor:
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
        with self._db.cursor() as cursor:
            frames = [cursor.execute(f"SELECT {selected} FROM {s.relation}").df() for s in (after, before)]
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
        with self._db.cursor() as cursor:
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
        sample = self._kept.get(key)
        if sample is None:
            sample = self._kept[key] = self._sample(version, column)
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
        where = f"{quoted} IS NOT NULL" + (f" AND isfinite(CAST({quoted} AS DOUBLE))" if numeric else "")
        with self._db.cursor() as cursor:
            nulls = cursor.execute(
                f"SELECT count(*) FILTER (WHERE {quoted} IS NULL) FROM {version.relation}"
            ).fetchone()
            as_floats = numeric and (sql_type.startswith(FLOAT_TYPES) or bool(nulls and nulls[0]))
            if column.kind == "number":
                values = cursor.execute(
                    f"SELECT {quoted} FROM {version.relation} WHERE {where} ORDER BY {quoted}"
                ).fetchnumpy()  # DuckDB sorts on every core
                array = np.asarray(values[column.name])
                return Sample.of_sorted(array.astype(np.float64 if as_floats else np.int64))
            counted = cursor.execute(
                f"SELECT {quoted}, count(*) FROM {version.relation} WHERE {where} GROUP BY ALL"
            ).fetchall()
        keys = [float(key) if as_floats else key for key, _ in counted]
        return Sample(keys, np.array([count for _, count in counted], dtype=float))


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
