"""Importing the training libraries without freezing the process that owns the workspace.

Measured here (docs/benchmarks.md, console responsiveness): the console's event loop stalled
for 340-570 ms when the first run or sweep of a session imported scikit-learn, SciPy and
MLflow in its worker thread. The imports themselves were not the cause: with the cyclic
garbage collector paused, importing all of them from a thread never stalled a 10 ms timer by
more than ~35 ms. The stalls were full (generation 2) collections that the imports'
allocations trigger; each one traverses every object in the process (a few hundred thousand
once Textual, DuckDB, pandas and MLflow are loaded) while holding the GIL.

So the libraries are imported with automatic collection paused, and everything alive then
is frozen (``gc.freeze``): later full collections skip those objects, which live as long as
the process anyway, and stay short for the rest of the session. Garbage cycles already
among the frozen objects are never collected; after an import there are few.
"""

from __future__ import annotations

import gc
import importlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Everything a run or a sweep imports in the owner process (catalogue.py, split.py,
# metrics.py, trainer.py, sweep.py). The figures' matplotlib is not here: it runs in a child.
TRAINING_MODULES = (
    "pandas",
    "sklearn.compose",
    "sklearn.impute",
    "sklearn.pipeline",
    "sklearn.preprocessing",
    "sklearn.linear_model",
    "sklearn.ensemble",
    "sklearn.metrics",
    "sklearn.model_selection",
    "sklearn.inspection",
    "mlflow.entities",
    "mlflow.tracking",
    "mlflow.data.pandas_dataset",
    "mlflow.models",
    "mlflow.pyfunc",
    "mlflow.sklearn",
    # The local store, created on a run's first write: SQLAlchemy, MLflow's tables, and the
    # Alembic schema check it runs on opening (as many objects again as all of the above).
    "mlflow.store.tracking.sqlalchemy_store",
    "mlflow.store.tracking.sqlalchemy_workspace_store",
    "sqlalchemy.dialects.sqlite",
    "alembic.command",
    "alembic.config",
    "alembic.runtime.migration",
    "alembic.script",
)

_lock = threading.Lock()
_importing = threading.Lock()
_pauses = 0
_restore = False
_imported = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """No automatic cyclic collection inside the block; safe to nest and to enter from threads
    (collection resumes when the last block exits, if it was on before the first)."""
    global _pauses, _restore
    with _lock:
        if _pauses == 0:
            _restore = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _restore:
                gc.enable()


def import_training_libraries() -> None:
    """Import ``TRAINING_MODULES`` with collection paused, then freeze; quick once done.

    The console calls this in a worker after the workspace opens; a run or a sweep calls it
    once its inputs are checked (checks.py), so one started before that finished (or from the
    CLI) imports the same quiet way.
    """
    global _imported
    with _importing:  # one thread imports; the others wait for it (see wait_for_imports)
        if _imported:
            return
        with paused_gc():
            for name in TRAINING_MODULES:
                importlib.import_module(name)
            gc.freeze()
        _imported = True


def wait_for_imports() -> None:
    """Return once no thread is importing the training libraries.

    Two threads importing MLflow at once can meet its circular imports half done ("cannot
    import name '_get_store' from partially initialized module"): a command the owner runs for
    a client while the owner warms up waits for the warm-up first (engine/host)."""
    with _importing:
        return
