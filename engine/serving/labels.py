"""``engine.labels``: late labels joined to the predictions they are the truth for.

Labels arrive days or weeks after a prediction (the sample's 14-45 days), in a file of their
own. A row finds its prediction one of two ways:

- by request id: the file has a ``request_id`` column (the id every answer carries) and,
  for a request of several instances, a ``row`` column (without one, row 0: a request of one
  instance, the common case);
- by entity and time: the file has the entity's key column (``customer_id``, named like the
  ``X-Entity`` the requests sent) and a time column; the label belongs to the newest
  prediction for that entity at or before that time (an as-of join: a replayed row's
  ``X-Event-Time`` is its own time, so the sample's labels meet their predictions exactly).

Which columns are which is found from the file and the log when it is unambiguous (the key is
a column the log knows as an entity key; the time the one timestamp column besides
``labelled_at``; the label the one column left), and named with ``--key``, ``--time`` and
``--label`` when it is not. Ingesting again replaces a prediction's label with the newer one,
so a corrected file is simply ingested again.
"""

from __future__ import annotations

from pathlib import Path

from engine.data import readers
from engine.db import Database
from engine.errors import InvalidInput
from engine.events import EventLog
from engine.identifiers import quote, string_literal
from engine.types.serving import LabelsIngested

REQUEST_ID = "request_id"
ROW = "row"
LABELLED_AT = "labelled_at"
TIME_TYPES = ("TIMESTAMP", "DATE")
LABEL_INDEX = "mlops_label_index"  # each label's place in the file, to count labels (not rows) joined


def label_text_sql(expression: str) -> str:
    """A label as comparable text: a whole number as an integer (``1.0`` and ``1`` meet), anything
    else as it reads."""
    number = f"TRY_CAST(CAST({expression} AS VARCHAR) AS DOUBLE)"
    return (
        f"CASE WHEN {number} IS NOT NULL AND {number} = round({number}) AND abs({number}) < 1e15"
        f" THEN CAST(CAST({number} AS BIGINT) AS VARCHAR) ELSE CAST({expression} AS VARCHAR) END"
    )


class Labels:
    def __init__(self, db: Database, events: EventLog) -> None:
        self._db = db
        self._events = events

    def ingest(
        self, path: str, label: str | None = None, key: str | None = None, time: str | None = None
    ) -> LabelsIngested:
        """Join the labels in ``path`` (CSV or Parquet) to logged predictions and keep them."""
        source_path = Path(path)
        with self._db.transaction() as cursor:
            source = readers.source_sql(cursor, source_path, {})
            try:
                cursor.execute(
                    f"CREATE TEMP TABLE incoming_labels AS SELECT *, row_number() OVER () AS {LABEL_INDEX}"
                    f" FROM {source}"
                )
            except Exception as error:
                raise readers.explain_read_error(source_path, error) from None
            columns = {
                str(name): str(kind)
                for name, kind, *_ in cursor.execute("DESCRIBE incoming_labels").fetchall()
                if name != LABEL_INDEX
            }
            known_keys = {
                str(row[0])
                for row in cursor.execute(
                    "SELECT DISTINCT entity_key FROM prediction_log WHERE entity_key IS NOT NULL"
                ).fetchall()
            }
            by_request = REQUEST_ID in columns and key is None
            if by_request:
                label_column = _label_column(columns, label, {REQUEST_ID, ROW, LABELLED_AT, time or ""})
                joined_by = "request id"
                matched_sql = _by_request_sql(columns, label_column)
            else:
                key_column = _key_column(columns, key, known_keys, source_path)
                time_column = _time_column(columns, time, source_path)
                label_column = _label_column(columns, label, {key_column, time_column, LABELLED_AT})
                joined_by = f"{key_column} + {time_column}"
                matched_sql = _by_entity_sql(columns, key_column, time_column, label_column)
            cursor.execute(f"CREATE TEMP TABLE matched_labels AS {matched_sql}")
            counts = cursor.execute(
                f"SELECT (SELECT count(*) FROM incoming_labels), count(DISTINCT {LABEL_INDEX}), count(*),"
                " count(*) FILTER (WHERE EXISTS (SELECT 1 FROM prediction_labels l"
                ' WHERE l.request_id = m.request_id AND l."row" = m."row"))'
                " FROM matched_labels m"
            ).fetchone()
            assert counts is not None
            cursor.execute(
                'INSERT INTO prediction_labels (request_id, "row", label, labelled_at)'
                ' SELECT request_id, "row", label, labelled_at FROM matched_labels'
                ' ON CONFLICT (request_id, "row") DO UPDATE SET label = excluded.label,'
                " labelled_at = excluded.labelled_at, ingested_at = now()"
            )
            cursor.execute("DROP TABLE incoming_labels")  # a failure rolls them back with the rest
            cursor.execute("DROP TABLE matched_labels")
        rows, matched, predictions, replaced = (int(value) for value in counts)
        result = LabelsIngested(
            str(source_path), joined_by, rows, matched, predictions, replaced, rows - matched
        )
        self._events.record(
            "labels", source_path.name, f"{matched:,} of {rows:,} labels joined by {joined_by}"
        )
        return result


def _labelled_at(columns: dict[str, str]) -> str:
    return f"TRY_CAST({quote(LABELLED_AT)} AS TIMESTAMP)" if LABELLED_AT in columns else "NULL"


def _by_request_sql(columns: dict[str, str], label_column: str) -> str:
    row = f"TRY_CAST(i.{quote(ROW)} AS INTEGER)" if ROW in columns else "0"
    return (
        f'SELECT DISTINCT ON (p.request_id, p."row") p.request_id, p."row", i.{LABEL_INDEX},'
        f" {label_text_sql('i.' + quote(label_column))} AS label, {_labelled_at(columns)} AS labelled_at"
        " FROM incoming_labels i JOIN prediction_log p"
        f' ON p.request_id = CAST(i.{quote(REQUEST_ID)} AS VARCHAR) AND p."row" = {row}'
        f" WHERE i.{quote(label_column)} IS NOT NULL"
    )


def _by_entity_sql(columns: dict[str, str], key_column: str, time_column: str, label_column: str) -> str:
    """The as-of join finds, for each label, the time of the entity's newest prediction at or
    before it; every prediction made for the entity at that time (each endpoint's, each
    variant's) gets the label."""

    def answered(alias: str) -> str:
        key = string_literal(key_column)
        return f'{alias}.entity_key = {key} AND {alias}."row" IS NOT NULL AND {alias}.status = 200'

    return (
        f"WITH labels AS (SELECT {LABEL_INDEX}, CAST({quote(key_column)} AS VARCHAR) AS entity,"
        f" CAST({quote(time_column)} AS TIMESTAMP) AS label_time,"
        f" {label_text_sql(quote(label_column))} AS label, {_labelled_at(columns)} AS labelled_at"
        f" FROM incoming_labels WHERE {quote(label_column)} IS NOT NULL AND {quote(key_column)} IS NOT NULL),"
        f" times AS (SELECT DISTINCT entity, event_time FROM prediction_log q WHERE {answered('q')}),"
        " found AS (SELECT l.*, t.event_time FROM labels l ASOF JOIN times t"
        " ON t.entity = l.entity AND t.event_time <= l.label_time)"
        f' SELECT DISTINCT ON (p.request_id, p."row") p.request_id, p."row", f.{LABEL_INDEX}, f.label,'
        " f.labelled_at FROM found f JOIN prediction_log p"
        f" ON p.entity = f.entity AND p.event_time = f.event_time AND {answered('p')}"
    )


def _key_column(columns: dict[str, str], key: str | None, known: set[str], path: Path) -> str:
    if key is not None:
        if key not in columns:
            raise InvalidInput(f"--key {key}: {path.name} has no such column; it has {', '.join(columns)}")
        return key
    candidates = [column for column in columns if column in known]
    if len(candidates) == 1:
        return candidates[0]
    if not known:
        raise InvalidInput(
            f"{path.name} has no request_id column, and no logged prediction names an entity yet "
            "(requests send it as X-Entity: customer_id=42); nothing to join the labels to"
        )
    raise InvalidInput(
        f"{path.name}: expected a request_id column or one entity key column of the log "
        f"({', '.join(sorted(known))}); it has {', '.join(columns)}; name it with --key"
    )


def _time_column(columns: dict[str, str], time: str | None, path: Path) -> str:
    if time is not None:
        if time not in columns:
            raise InvalidInput(f"--time {time}: {path.name} has no such column; it has {', '.join(columns)}")
        return time
    candidates = [c for c, kind in columns.items() if kind.startswith(TIME_TYPES) and c != LABELLED_AT]
    if len(candidates) == 1:
        return candidates[0]
    found = ", ".join(candidates) or "none"
    raise InvalidInput(
        f"{path.name}: expected one timestamp column for when each labelled event happened "
        f"(found {found}); name it with --time"
    )


def _label_column(columns: dict[str, str], label: str | None, used: set[str]) -> str:
    if label is not None:
        if label not in columns:
            raise InvalidInput(f"--label {label}: no such column; the file has {', '.join(columns)}")
        return label
    left = [column for column in columns if column not in used]
    if len(left) == 1:
        return left[0]
    raise InvalidInput(
        f"expected one label column besides the join columns, found {', '.join(left) or 'none'}; "
        "name it with --label"
    )
