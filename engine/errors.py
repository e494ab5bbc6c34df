"""The engine's error types.

Every error a user can cause is an ``MlopsError``: the CLI prints its message as one line on
stderr and exits with its ``exit_code``; the console shows it as a notification. Anything
else escaping the engine is a bug and keeps its traceback.
"""

from __future__ import annotations


class MlopsError(Exception):
    """A failure with a message fit to show a user as it is."""

    exit_code: int = 1


class InvalidInput(MlopsError):
    """A value given by the user is wrong; the message names the field and what was expected."""

    exit_code = 2


class WorkspaceNotFound(MlopsError):
    """No workspace where one was looked for."""

    exit_code = 2


class WorkspaceLocked(MlopsError):
    """Another live process owns the workspace (DESIGN rule 2)."""

    exit_code = 3


class ConfigError(InvalidInput):
    """``config.toml`` holds a value the engine cannot use."""


class TrackingUnreachable(MlopsError):
    """The configured MLflow tracking server (``[tracking] uri``) does not answer."""


class OwnerGone(MlopsError):
    """The process that owns the workspace, which this one was attached to, stopped or cannot
    be reached (engine/host)."""


class OwnerFailed(MlopsError):
    """A call run in the workspace's owner failed there with an error that is not an
    ``MlopsError`` (a bug): its type and message, as the owner saw them."""
