"""Dataset names and references: ``NAME`` (the latest version) or ``NAME@vN``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.errors import InvalidInput
from engine.identifiers import check_name as check_identifier
from engine.types.data import latest_view, version_table

__all__ = ["REF_PATTERN", "DatasetRef", "check_name", "latest_view", "parse_ref", "version_table"]

REF_PATTERN = re.compile(r"^(?P<name>[^@]+)(?:@v(?P<version>[0-9]+))?$")


@dataclass(frozen=True)
class DatasetRef:
    name: str
    version: int | None  # None: the latest version

    def __str__(self) -> str:
        return self.name if self.version is None else f"{self.name}@v{self.version}"


def check_name(name: str) -> str:
    return check_identifier(name, "dataset name")


def parse_ref(text: str) -> DatasetRef:
    match = REF_PATTERN.match(text.strip())
    if match is None:
        raise InvalidInput(
            f"dataset reference {text!r} is not valid; expected NAME or NAME@vN (e.g. churn@v2)"
        )
    version = match.group("version")
    return DatasetRef(check_name(match.group("name")), int(version) if version else None)
