"""``python -m benchmarks [NAME ...]``: run the benchmarks (all by default) and print Markdown."""

from __future__ import annotations

import sys

from benchmarks import (
    console_live,
    console_stall,
    console_startup,
    data_ingest,
    data_ingest_large,
    drift,
    drift_large,
    features,
    forwarding,
    onnx_inference,
    runs,
    runs_table,
    serving,
    sweep,
    validation,
)

BENCHMARKS = {
    "console_startup": console_startup.main,
    "console_stall": console_stall.main,
    "console_live": console_live.main,
    "data_ingest": data_ingest.main,
    "data_ingest_large": data_ingest_large.main,
    "validation": validation.main,
    "features": features.main,
    "forwarding": forwarding.main,
    "runs": runs.main,
    "runs_table": runs_table.main,
    "sweep": sweep.main,
    "onnx_inference": onnx_inference.main,
    "serving": serving.main,
    "drift": drift.main,
    "drift_large": drift_large.main,
}


def main(names: list[str]) -> None:
    for name in names or list(BENCHMARKS):
        if name not in BENCHMARKS:
            sys.exit(f"unknown benchmark {name!r}; expected one of {', '.join(BENCHMARKS)}")
        BENCHMARKS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
