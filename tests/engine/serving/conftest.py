"""A real export to serve: version 2 of "churn" from the registry template, as ONNX."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.facade import Engine
from engine.types.registry import OnnxExportRecord
from tests.conftest import copy_workspace

Exported = tuple[OnnxExportRecord, list[dict[str, Any]]]


@pytest.fixture(scope="session")
def exported(registry_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exported]:
    """Version 2 of "churn" exported to ONNX, and 300 rows of its data as request objects."""
    root = copy_workspace(registry_template, tmp_path_factory.mktemp("serving") / "ws")
    with Engine.open(root, command="pytest") as engine:
        record = engine.registry.export_onnx("churn", 2)
        columns, rows = engine.datasets.head("churn", 0, 300)
    yield record, [dict(zip(columns, row, strict=True)) for row in rows]
