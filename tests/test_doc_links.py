"""Every docs page a file points to exists, and every relative link in the docs resolves."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO_ROOT

DOC_PATH = re.compile(r"\bdocs/[\w\-]+\.md\b")
MARKDOWN_LINK = re.compile(r"\]\((?!https?://|#)(?P<target>[^)#\s]+)")
SOURCES = (
    "README.md",
    "docs",
    "sample_data",
    "engine",
    "console",
    "benchmarks",
    "Makefile",
    "pyproject.toml",
)


def files_to_check() -> list[Path]:
    found: list[Path] = []
    for name in SOURCES:
        path = REPO_ROOT / name
        found += (
            [path] if path.is_file() else [p for p in path.rglob("*") if p.suffix in {".md", ".py", ".toml"}]
        )
    return found


def test_every_docs_page_named_anywhere_exists() -> None:
    missing = {
        f"{path.relative_to(REPO_ROOT)} → {name}"
        for path in files_to_check()
        for name in DOC_PATH.findall(path.read_text(encoding="utf-8"))
        if not (REPO_ROOT / name).is_file()
    }
    assert not missing


def test_relative_links_in_markdown_resolve() -> None:
    broken = {
        f"{path.relative_to(REPO_ROOT)} → {match.group('target')}"
        for path in files_to_check()
        if path.suffix == ".md"
        for match in MARKDOWN_LINK.finditer(path.read_text(encoding="utf-8"))
        if not (path.parent / match.group("target")).exists()
    }
    assert not broken
