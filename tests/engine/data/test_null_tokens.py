"""Missing values written as text (``NA``, ``N/A``, ``null``, ``NaN``): read as nulls, as pandas
reads them, said in the ingest result, and overridable."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from engine.errors import InvalidInput
from engine.facade import Engine

# As R's write.csv(row.names = FALSE) writes it: text quoted, a missing value a bare NA. Namibia's
# country code is a real "NA" in row 3; pandas' defaults read it as missing too.
R_EXPORT = """\
"id","age","height","score","country","joined"
1,34,172.5,0.9,"DE","2026-01-03"
2,NA,NA,NaN,"US",NA
3,51,N/A,0.4,"NA","2026-02-01"
4,null,181,NaN,"FR","2026-03-01"
5,29,165.25,,"US","2026-03-05"
6,NA,170,NaN,"DE","2026-03-09"
"""


def r_export(tmp_path: Path) -> Path:
    path = tmp_path / "r_export.csv"
    path.write_text(R_EXPORT)
    return path


def notes(result: object) -> list[tuple[str, str, dict[str, int]]]:
    return [(n.column, n.type, dict(n.tokens)) for n in result.nulls_from_tokens]  # type: ignore[attr-defined]


def null_counts(engine: Engine, ref: str) -> dict[str, int]:
    return {p.name: p.null_count for p in engine.datasets.profile(ref)}


def test_r_style_missing_values_read_as_nulls_of_numeric_columns_as_pandas_reads_them(
    engine: Engine, tmp_path: Path
) -> None:
    path = r_export(tmp_path)
    version = engine.datasets.ingest(path, "survey").version
    assert version.schema == [
        ("id", "BIGINT"),
        ("age", "BIGINT"),
        ("height", "DOUBLE"),
        ("score", "DOUBLE"),
        ("country", "VARCHAR"),
        ("joined", "DATE"),
    ]
    assert null_counts(engine, "survey") == {
        column: int(count) for column, count in pd.read_csv(path).isna().sum().items()
    }
    assert null_counts(engine, "survey") == {
        "id": 0, "age": 3, "height": 2, "score": 4, "country": 1, "joined": 1,
    }  # fmt: skip
    sums = engine.datasets.query("SELECT sum(age), sum(height), sum(score) FROM survey").rows
    assert sums == [(114, 172.5 + 181 + 165.25 + 170, pytest.approx(1.3))]


def test_the_result_says_which_columns_had_tokens_read_as_null(engine: Engine, tmp_path: Path) -> None:
    result = engine.datasets.ingest(r_export(tmp_path), "survey")
    assert notes(result) == [
        ("age", "BIGINT", {"NA": 2, "null": 1}),
        ("height", "DOUBLE", {"NA": 1, "N/A": 1}),
        ("score", "DOUBLE", {"NaN": 3}),  # the empty field was always null: not a token's doing
        ("country", "VARCHAR", {"NA": 1}),
        ("joined", "DATE", {"NA": 1}),
    ]
    assert [n.text for n in result.nulls_from_tokens][2:4] == [
        "score: 3 values 'NaN' read as null (DOUBLE)",
        "country: 1 value 'NA' read as null (VARCHAR)",
    ]
    assert result.nulls_from_tokens[0].text == "age: 3 values ('NA' 2, 'null' 1) read as null (BIGINT)"
    document = result.to_dict()
    assert document["null_tokens"][:3] == ["", "#N/A", "#N/A N/A"]
    assert document["nulls_from_tokens"][0] == {
        "column": "age",
        "type": "BIGINT",
        "count": 3,
        "tokens": {"NA": 2, "null": 1},
    }


def test_a_file_without_tokens_has_no_notes_and_keeps_its_version(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("a,b\n1,x\n,y\n3,\n")
    first = engine.datasets.ingest(path, "plain")
    assert first.nulls_from_tokens == () and null_counts(engine, "plain") == {"a": 1, "b": 1}
    assert not engine.datasets.ingest(path, "plain", null_tokens=[""]).created


def test_a_numeric_type_override_accepts_the_tokens(engine: Engine, tmp_path: Path) -> None:
    version = engine.datasets.ingest(r_export(tmp_path), "survey", schema="age=DOUBLE").version
    assert dict(version.schema)["age"] == "DOUBLE"
    assert null_counts(engine, "survey")["age"] == 3


def test_null_token_replaces_the_list_so_a_real_na_stays_text(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "countries.csv"
    path.write_text("country,population,area\nNA,2.6,-999\nDE,83.2,357\nNA,,824\n")
    default = engine.datasets.ingest(path, "countries")
    assert notes(default) == [("country", "VARCHAR", {"NA": 2})]

    kept = engine.datasets.ingest(path, "countries", null_tokens=[""])
    assert kept.created and kept.version.ref == "countries@v2"  # other tokens, other data: a new version
    assert kept.nulls_from_tokens == () and kept.to_dict()["null_tokens"] == [""]
    rows = engine.datasets.query("SELECT country, population FROM countries ORDER BY area").rows
    assert rows == [("NA", 2.6), ("DE", 83.2), ("NA", None)]

    sentinel = engine.datasets.ingest(path, "countries", null_tokens=["", "-999"])
    assert notes(sentinel) == [("area", "BIGINT", {"-999": 1})]
    assert null_counts(engine, "countries@v3") == {"country": 0, "population": 1, "area": 1}
    assert engine.datasets.ingest(path, "countries", null_tokens=["-999", ""]).version.ref == "countries@v3"


def test_without_the_empty_token_empty_fields_are_empty_text(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text("code,n\nNA,1\n,2\n")
    result = engine.datasets.ingest(path, "codes", null_tokens=["NA"])
    assert engine.datasets.query("SELECT code FROM codes ORDER BY n").rows == [(None,), ("",)]
    assert notes(result) == [("code", "VARCHAR", {"NA": 1})]


def test_a_column_named_like_a_token_keeps_its_name(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "named.csv"
    path.write_text("NA,null,b\n1,2,NA\n3,4,5\n")
    version = engine.datasets.ingest(path, "named", schema="NA=DOUBLE").version
    assert version.schema == [("NA", "DOUBLE"), ("null", "BIGINT"), ("b", "BIGINT")]
    assert null_counts(engine, "named") == {"NA": 0, "null": 0, "b": 1}


def test_tokens_are_counted_in_the_dialect_duckdb_read(engine: Engine, tmp_path: Path) -> None:
    """Read with the tokens, '|' splits this file consistently; read as plain text, DuckDB's
    sniffer would pick the tab. The counting read must split it as the stored read did."""
    path = tmp_path / "ambiguous.csv"
    path.write_text("a|b\t c\n1|2\t5\nNA|4\t5\n")
    result = engine.datasets.ingest(path, "ambiguous")
    assert result.version.schema == [("a", "BIGINT"), ("b\t c", "VARCHAR")]
    assert notes(result) == [("a", "BIGINT", {"NA": 1})]


def test_parquet_nulls_are_real_and_its_text_stays_text(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "codes.parquet"
    pd.DataFrame({"code": ["NA", None, "DE"], "n": [1.0, None, 3.0]}).to_parquet(path, index=False)
    result = engine.datasets.ingest(path, "codes")
    assert result.nulls_from_tokens == () and result.to_dict()["null_tokens"] is None
    assert engine.datasets.query("SELECT code, n FROM codes ORDER BY n NULLS LAST").rows == [
        ("NA", 1.0),
        ("DE", 3.0),
        (None, None),
    ]


def test_the_default_is_pandas_list() -> None:
    from pandas._libs.parsers import STR_NA_VALUES

    from engine.data.null_tokens import PANDAS_NULL_TOKENS

    assert set(PANDAS_NULL_TOKENS) == STR_NA_VALUES and len(PANDAS_NULL_TOKENS) == len(STR_NA_VALUES)


@pytest.mark.parametrize(
    ("suffix", "tokens", "message"),
    [
        (".csv", [], "--null-token: expected at least one token"),
        (".csv", ["N\nA"], r"--null-token 'N\\nA' holds a control character"),
        (".csv", ["\t"], r"--null-token '\\t' holds a control character"),
        (".parquet", ["NA"], "--null-token applies to text files"),
    ],
)
def test_bad_tokens_are_one_line_errors_and_leave_nothing(
    engine: Engine, tmp_path: Path, suffix: str, tokens: list[str], message: str
) -> None:
    path = tmp_path / f"data{suffix}"
    frame = pd.DataFrame({"a": [1, 2]})
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path, index=False)
    engine.datasets.ingest(path, "data")
    with pytest.raises(InvalidInput, match=message) as error:
        engine.datasets.ingest(path, "data", null_tokens=tokens)
    assert "\n" not in str(error.value)
    assert [v.ref for v in engine.datasets.versions("data")] == ["data@v1"]


def test_a_value_that_is_no_token_suggests_naming_it(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "sas.csv"
    path.write_text("a,b\n" + "1,2\n" * 30_000 + ".,3\n")
    with pytest.raises(InvalidInput, match=r"column 'a' holds '\.'.*--null-token"):
        engine.datasets.ingest(path, "sas")
    result = engine.datasets.ingest(path, "sas", null_tokens=["", "."])
    assert notes(result) == [("a", "BIGINT", {".": 1})]
