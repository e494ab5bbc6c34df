"""Missing values written as text: which tokens a text file's reader takes for null, and where
they turned up.

R, pandas and most exports write a missing value as ``NA`` (or ``N/A``, ``null``, ``NaN``...),
while DuckDB's CSV reader takes only the empty field for null: a numeric column holding one
``NA`` would be read as text, then trained on as a category. Text files are therefore read with
pandas' default tokens as nulls, or with exactly the tokens the user names (pandas'
``keep_default_na=False`` plus ``na_values``). Parquet stores real nulls and is read as it is.

A token can be real data (``NA`` is Namibia's country code), so an ingest says which columns had
tokens read as null and how many of each. Only a column with nulls can have any, so the count
costs nothing for a clean file, and one read of just those columns as text for the others.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from engine.errors import InvalidInput
from engine.identifiers import quote
from engine.progress import watch_query
from engine.types.data import NullTokenNote
from engine.types.progress import Progress

if TYPE_CHECKING:
    import duckdb

# pandas' default ``na_values`` (``STR_NA_VALUES`` of pandas 2.x, a test compares them), sorted.
PANDAS_NULL_TOKENS: tuple[str, ...] = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)  # fmt: skip


def check_tokens(tokens: Sequence[str] | None) -> tuple[str, ...]:
    """The tokens to read as null: pandas' list when none are given, else exactly these.

    A field never holds a line break or another control character outside quotes, so a token
    with one could only ever match by accident: it is refused, as is an empty list (DuckDB
    needs at least one null string; ``''``, the empty field alone, is what "none" means).
    """
    if tokens is None:
        return PANDAS_NULL_TOKENS
    if not tokens:
        raise InvalidInput("--null-token: expected at least one token ('' alone: only empty fields are null)")
    for token in tokens:
        if any(unicodedata.category(character) == "Cc" for character in token):
            raise InvalidInput(
                f"--null-token {token!r} holds a control character; "
                "expected text on one line, e.g. NA or -999"
            )
    return tuple(dict.fromkeys(tokens))


def nulls_from_tokens(
    cursor: duckdb.DuckDBPyConnection,
    relation: str,
    schema: list[tuple[str, str]],
    tokens: Sequence[str],
    text_source: Callable[[], str],
    report: Progress,
) -> tuple[NullTokenNote, ...]:
    """Where ``relation`` (read from a text file with ``tokens`` as nulls) got nulls from a
    non-empty token, counted in ``text_source()``: the same file read as text, where only the
    empty field is null. The empty field is left out: it was null before tokens were."""
    written = [token for token in tokens if token]
    if not written:
        return ()
    counts = ", ".join(f"count(*) - count({quote(name)})" for name, _ in schema)
    row = cursor.execute(f"SELECT {counts} FROM {relation}").fetchone()
    assert row is not None
    with_nulls = [(name, kind) for (name, kind), nulls in zip(schema, row, strict=True) if nulls]
    if not with_nulls:
        return ()
    # Each value's place in the token list (NULL when it is none) is counted: a histogram of
    # small integers costs less than one of the strings (measured on 1M rows).
    found = ", ".join(f"histogram(list_position($tokens, {quote(name)}))" for name, _ in with_nulls)
    source = text_source()
    with watch_query(cursor, report, "counting missing-value tokens", 0.7, 0.8):
        histograms = cursor.execute(f"SELECT {found} FROM {source}", {"tokens": written}).fetchone()
    assert histograms is not None
    return tuple(
        NullTokenNote(name, kind, _by_frequency(written, positions))
        for (name, kind), positions in zip(with_nulls, histograms, strict=True)
        if positions
    )


def _by_frequency(tokens: list[str], positions: dict[int, int]) -> tuple[tuple[str, int], ...]:
    """``list_position``'s counts (1-based places in ``tokens``) as tokens, the most frequent first."""
    counted = [(tokens[position - 1], count) for position, count in positions.items()]
    return tuple(sorted(counted, key=lambda item: (-item[1], item[0])))
