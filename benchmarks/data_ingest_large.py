"""A multi-GB CSV ingested without loading it: peak memory of ``mlops data ingest``.

Writes a CSV of about ``GIGABYTES`` GB (the churn reference's columns, repeated), runs
``mlops data ingest`` on it in a child process and reports the child's peak resident memory
next to the file size. DuckDB streams the file; the content hash streams too (sums, no
sort), so peak memory stays well under the file size.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GIGABYTES = 2.0
BYTES_PER_ROW = 75  # of the churn columns as CSV, measured on the sample
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "churn_reference.csv"
BIN = Path(sys.executable).parent


def write_large_csv(path: Path, gigabytes: float) -> int:
    import duckdb

    rows = int(gigabytes * 1e9 / BYTES_PER_ROW)
    with duckdb.connect() as con:
        con.execute(
            f"""
            COPY (
                SELECT r.* EXCLUDE (n) REPLACE (i AS customer_id)
                FROM range({rows}) t(i)
                JOIN (SELECT *, row_number() OVER () - 1 AS n FROM read_csv('{SAMPLE}')) r ON r.n = i % 20000
            ) TO '{path}' (FORMAT CSV, HEADER)
            """
        )
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "large.csv"
        rows = write_large_csv(csv_path, GIGABYTES)
        size_gb = csv_path.stat().st_size / 1e9
        workspace = Path(folder) / "ws"
        subprocess.run(
            [str(BIN / "mlops"), "init", str(workspace), "--json"], check=True, capture_output=True
        )
        started = time.perf_counter()
        subprocess.run(
            [
                str(BIN / "mlops"),
                "data",
                "ingest",
                str(csv_path),
                "--name",
                "large",
                "-w",
                str(workspace),
                "--json",
            ],
            check=True,
            capture_output=True,
        )
        seconds = time.perf_counter() - started
        peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e9
    print(f"### Streaming ingest of a {size_gb:.1f} GB CSV ({rows:,} rows)\n")
    print("| file size | ingest time | peak resident memory of `mlops data ingest` |")
    print("| --- | --- | --- |")
    print(f"| {size_gb:.2f} GB | {seconds:.1f} s | {peak_gb:.2f} GB |")
    print()


if __name__ == "__main__":
    main()
