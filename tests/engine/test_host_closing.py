"""An owner closing while a client connects (engine/host/server.py): the connection accepted in
that moment is refused during the handshake, never served on a database about to close.

Seen in CI: commands started together, the first owning the workspace for its own command; a
client's connection accepted just as that owner closed was served after ``close`` had stopped
waiting for clients, and its command failed with "the database ... is closed"."""

from __future__ import annotations

import threading
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any

import pytest

from engine.host import server
from engine.host.endpoint import read_endpoint, socket_address, workspace_key
from engine.workspace import find_workspace
from tests.conftest import wait_until


class HeldListener(Listener):
    """A listener whose accepted connection is handed on only when the test says so: the
    moment between ``accept`` returning and the connection being served, held open."""

    accepted = threading.Event()
    release = threading.Event()

    def accept(self) -> Connection:
        connection = super().accept()
        HeldListener.accepted.set()
        HeldListener.release.wait(30)
        return connection


def test_a_connection_accepted_as_the_owner_closes_is_refused_not_served(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "Listener", HeldListener)
    ran: list[Any] = []
    owned = find_workspace(str(workspace))
    host = server.Host(
        owned,
        lambda request, stdout, stderr: ran.append(request.argv) or 0,
        lambda name, args, kwargs: None,
        lambda ident: None,
    )
    host.start()
    outcome: list[BaseException] = []

    def connect() -> None:
        try:
            Client(socket_address(owned), family="AF_UNIX", authkey=workspace_key(owned))
        except (EOFError, OSError) as error:
            outcome.append(error)

    client = threading.Thread(target=connect)
    client.start()
    wait_until(HeldListener.accepted.is_set, what="the owner to accept the connection")
    closing = threading.Thread(target=host.close)
    closing.start()
    wait_until(lambda: read_endpoint(owned) is None, what="the owner to begin closing")
    HeldListener.release.set()
    closing.join(30)
    client.join(30)
    assert outcome and not ran, "the client must see the connection end in the handshake"
