"""The bearer tokens the inference server accepts: named, revocable, stored only as digests.

The workspace's token file (``.mlops/token``, made by ``mlops init``) is the token named
``default``. Others are made by ``mlops tokens create NAME``: the token is shown once and only
its sha256 is kept, in ``.mlops/tokens.json`` (0600, replaced atomically), with when it was
made and, once revoked, when. Serving processes never open the workspace's database, so the
file is what they read; ``TokenCheck`` re-reads it when it changes, so a revocation takes
effect at the next request.

A presented token is hashed and compared with every stored digest by ``hmac.compare_digest``,
each comparison in constant time, so the answer's timing says nothing about how close a guess
came.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.errors import InvalidInput
from engine.identifiers import check_name
from engine.types.serving import IssuedToken, TokenInfo
from engine.types.workspace import Workspace
from engine.workspace import replace_private

TOKENS_FILE = "tokens.json"
DEFAULT_TOKEN = "default"
TOKEN_BYTES = 32


class Tokens:
    """The workspace's serving tokens (written by the owner, read by every serving process)."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace
        self._path = workspace.mlops_dir / TOKENS_FILE

    def create(self, name: str) -> IssuedToken:
        check_name(name, "token name")
        entries = self._entries()
        if name == DEFAULT_TOKEN or any(entry["name"] == name for entry in entries):
            raise InvalidInput(
                f"token name {name!r} is already used (by an active or a revoked token); choose another"
            )
        token = secrets.token_urlsafe(TOKEN_BYTES)
        created = _now()
        entries.append({"name": name, "sha256": _digest(token), "created_at": created, "revoked_at": None})
        self._write(entries)
        return IssuedToken(name, token, created)

    def all(self) -> list[TokenInfo]:
        entries = self._entries()
        listed = [TokenInfo(e["name"], e["created_at"], e["revoked_at"]) for e in entries]
        if not any(entry["name"] == DEFAULT_TOKEN for entry in entries):
            listed.insert(0, TokenInfo(DEFAULT_TOKEN, self._default_created(), None))
        return listed

    def revoke(self, name: str) -> TokenInfo:
        """Stop accepting ``name`` (``default`` too: the token file stays, as the workspace's own
        key for its endpoint, but serving no longer takes it)."""
        entries = self._entries()
        if name == DEFAULT_TOKEN and not any(entry["name"] == DEFAULT_TOKEN for entry in entries):
            entries.insert(
                0,
                {
                    "name": DEFAULT_TOKEN,
                    "sha256": None,
                    "created_at": self._default_created(),
                    "revoked_at": None,
                },
            )
        entry = next((entry for entry in entries if entry["name"] == name), None)
        if entry is None:
            known = ", ".join(info.name for info in self.all())
            raise InvalidInput(f"no token named {name!r}; tokens here: {known}")
        if entry["revoked_at"] is None:
            entry["revoked_at"] = _now()
            self._write(entries)
        return TokenInfo(entry["name"], entry["created_at"], entry["revoked_at"])

    def _default_created(self) -> str:
        stamp = self._workspace.default_token_path.stat().st_mtime
        return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")

    def _entries(self) -> list[dict[str, Any]]:
        return read_entries(self._path)

    def _write(self, entries: list[dict[str, Any]]) -> None:
        replace_private(self._path, json.dumps({"tokens": entries}, indent=1))


class TokenCheck:
    """Which token a request presented, as a serving process checks it: the file re-read when
    it changes (its modification time and size), the default token's digest kept."""

    def __init__(self, workspace: Workspace) -> None:
        self._path = workspace.mlops_dir / TOKENS_FILE
        self._default = _digest(workspace.default_token_path.read_text(encoding="utf-8").strip())
        self._seen: tuple[int, int] | None = None
        self._accepted: list[tuple[str, str]] = []

    def name_of(self, presented: str) -> str | None:
        """The active token's name, or None (unknown or revoked)."""
        digest = _digest(presented)
        found = None
        for name, stored in self._active():
            if hmac.compare_digest(digest, stored):  # all compared, so timing tells nothing
                found = name
        return found

    def _active(self) -> list[tuple[str, str]]:
        try:
            info = self._path.stat()
            seen: tuple[int, int] | None = (info.st_mtime_ns, info.st_size)
        except FileNotFoundError:
            seen = None
        if seen != self._seen or not self._accepted:
            entries = read_entries(self._path)
            revoked = {entry["name"] for entry in entries if entry["revoked_at"] is not None}
            accepted = [(DEFAULT_TOKEN, self._default)] if DEFAULT_TOKEN not in revoked else []
            accepted += [(e["name"], e["sha256"]) for e in entries if e["revoked_at"] is None and e["sha256"]]
            self._accepted, self._seen = accepted, seen
        return self._accepted


def read_entries(path: Path) -> list[dict[str, Any]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except ValueError as error:
        raise InvalidInput(f"{path} is not valid JSON ({error}); fix or remove it") from None
    return list(document.get("tokens", []))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
