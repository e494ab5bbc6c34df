"""The mlops-console engine: a local MLOps platform over a DuckDB workspace.

Use it as a library through the facade::

    from engine import Engine

    with Engine.open("path/to/workspace") as engine:
        print(engine.status())

Importing this package stays cheap (no pandas, MLflow, scikit-learn, DuckDB or UI code):
the heavy libraries load inside the services that use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.version import __version__

__all__ = ["Engine", "__version__"]

if TYPE_CHECKING:
    from engine.facade import Engine


def __getattr__(name: str) -> Any:
    if name == "Engine":
        from engine.facade import Engine

        return Engine
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
