"""What a step's cache key is made of, as ``dvc repro`` hashes a stage's dependencies.

A key is the sha256 of a canonical JSON document of everything the step's result depends
on: its kind and settings, the content hashes of the data it reads, the outputs of the steps
it takes input from, and the code version. The code version is the engine's version, the
source of the engine modules that train and score, the versions of the libraries they call,
and the bytes of any files a step lists in ``deps`` (a user's own code). Change any of them
and the step runs again; change nothing and its stored result is served.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from engine.errors import InvalidInput
from engine.version import __version__

# The engine's own training code: an edit here must not be served a stale model.
TRAINING_SOURCES = ("catalogue.py", "trainer.py", "split.py", "metrics.py")
TRAINING_PACKAGES = ("scikit-learn", "numpy", "pandas", "scipy")


def cache_key(parts: dict[str, Any]) -> str:
    document = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(document.encode()).hexdigest()


@cache
def training_code_version() -> dict[str, str]:
    """The engine's version, its training sources' digest and the training libraries' versions.

    Cached per process: neither changes while it runs.
    """
    from engine.training import catalogue
    from engine.training.tracking import package_versions

    folder = Path(catalogue.__file__).parent
    sources = hashlib.sha256()
    for name in TRAINING_SOURCES:
        sources.update((folder / name).read_bytes())
    return {
        "engine": __version__,
        "training_sources": sources.hexdigest(),
        **package_versions(TRAINING_PACKAGES),
    }


def files_digest(paths: list[str], base: Path, where: str) -> dict[str, str]:
    """The sha256 of each file a step declares in ``deps``, relative to the pipeline file."""
    digests = {}
    for path in paths:
        file = (base / path).resolve()
        try:
            digests[path] = hashlib.sha256(file.read_bytes()).hexdigest()
        except OSError as error:
            raise InvalidInput(f"{where}: deps file {path} cannot be read ({error.strerror})") from None
    return digests
