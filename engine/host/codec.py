"""How a facade call and its answer cross the endpoint: pickle, read back by an allow-list.

The facade's arguments and answers are the plain types of ``engine.types`` (dataclasses, enums),
the builtins, and the values DuckDB hands back (dates, decimals, UUIDs); JSON would lose which
dataclass a value is and every date, so they are pickled. Reading a pickle can run any callable
it names, so ``loads`` resolves only the classes below: a frame naming anything else (``os.system``,
a pandas internal, a class of another package) is refused before anything is built, on either side.
Both sides also proved the workspace token and the same uid before the first frame (server.py).
"""

from __future__ import annotations

import io
import pickle
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from engine.errors import InvalidInput, MlopsError

SAFE_CLASSES: dict[str, frozenset[str]] = {
    "builtins": frozenset({"complex", "set", "frozenset", "bytearray", "slice", "range"}),
    "datetime": frozenset({"date", "datetime", "time", "timedelta", "timezone"}),
    "decimal": frozenset({"Decimal"}),
    "uuid": frozenset({"UUID", "SafeUUID"}),
    "pathlib": frozenset({"Path", "PosixPath", "PurePath", "PurePosixPath"}),
    "zoneinfo": frozenset({"ZoneInfo"}),
}
"""Standard-library value classes whose construction runs no code but their own."""

ENGINE_TYPE_PACKAGE = "engine.types"
ENGINE_ERRORS = "engine.errors"


class RefusedPickle(pickle.UnpicklingError):
    """A frame named a class outside the allow-list."""


class _AllowListUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if name in SAFE_CLASSES.get(module, ()):
            return super().find_class(module, name)
        if module in (ENGINE_ERRORS, ENGINE_TYPE_PACKAGE) or module.startswith(ENGINE_TYPE_PACKAGE + "."):
            found = super().find_class(module, name)
            if isinstance(found, type) and (module != ENGINE_ERRORS or issubclass(found, MlopsError)):
                return found  # a dataclass, an enum or an error of the engine: plain data
        raise RefusedPickle(f"{module}.{name} may not cross the workspace endpoint")


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        """An enum member as its class called with its value, a time zone (DuckDB's timestamps
        carry one) as ``ZoneInfo(key)``: Python's own reductions of both name ``getattr``,
        which the reading side must never resolve."""
        if isinstance(obj, Enum):
            return type(obj), (obj.value,)
        if isinstance(obj, ZoneInfo):
            return ZoneInfo, (obj.key,)
        return NotImplemented


def dumps(value: Any) -> bytes:
    """``value`` as a frame; a value that cannot cross (a pandas frame, a callable) is refused
    here, by the side that made it, in one line."""
    try:
        buffer = io.BytesIO()
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
        data = buffer.getvalue()
        loads(data)  # what the other side would refuse is refused here, where it is understood
    except (pickle.PicklingError, RefusedPickle, TypeError, AttributeError) as error:
        raise InvalidInput(f"cannot send {type(value).__name__} to another process: {error}") from None
    return data


def loads(data: bytes) -> Any:
    """A frame read back, resolving only the allow-listed classes."""
    return _AllowListUnpickler(io.BytesIO(data)).load()
