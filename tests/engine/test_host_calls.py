"""Facade calls across the endpoint (engine/host/remote.py, server.py, codec.py): the same
answers, errors and progress as in-process, and nothing else of the engine reachable.

The owner is an ``Engine`` serving in this process and the caller a ``Session`` over the real
unix socket: what crosses is exactly what crosses between two processes.
"""

from __future__ import annotations

import json
import os
import pickle
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from multiprocessing.connection import Client
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from engine.errors import InvalidInput, OwnerGone
from engine.facade import SURFACE, AttachedEngine, Attachment, Engine
from engine.host import codec
from engine.host.endpoint import PROTOCOL, read_endpoint, workspace_key
from engine.types.data import DatasetVersion
from engine.types.host import RelayedCallback
from engine.types.training import SweepRequest, TrainRequest
from engine.types.workspace import Workspace
from tests.conftest import SAMPLE, wait_until


def serving(workspace: Path) -> Iterator[Engine]:
    """This process owning ``workspace`` and hosting it (commands are not run: calls are)."""
    engine = Engine.open(workspace, command="pytest owner")
    engine.serve(lambda request, stdout, stderr: 0)
    yield engine
    engine.close()


@pytest.fixture
def owner(workspace: Path) -> Iterator[Engine]:
    yield from serving(workspace)


@pytest.fixture
def attached(owner: Engine) -> Iterator[AttachedEngine]:
    opening = Engine.claim_or_attach(owner.workspace.root, command="pytest attached")
    assert isinstance(opening, Attachment)
    engine = opening.open(lambda pid: None)
    yield engine
    engine.close()


def test_answers_are_the_owners_own_types_and_values(owner: Engine, attached: AttachedEngine) -> None:
    reports: list[tuple[str, float | None]] = []
    result = attached.datasets.ingest(
        SAMPLE / "churn_week_1.csv", "weekly", progress=lambda *r: reports.append(r)
    )
    assert isinstance(result.version, DatasetVersion)
    assert result.version == owner.datasets.resolve("weekly@v1")
    assert result.version.created_at.tzinfo is not None
    assert reports and reports[0][0].startswith("reading churn_week_1.csv") and reports[-1][1] == 1.0
    assert attached.datasets.head("weekly", 0, 3) == owner.datasets.head("weekly", 0, 3)
    assert attached.datasets.profile("weekly") == owner.datasets.profile("weekly")
    assert attached.events.recent(5) == owner.events.recent(5)
    status = attached.status()
    assert status.owner.pid == os.getpid() and status.counts.datasets == 1
    assert [client.command for client in status.clients] == ["pytest attached"]


def test_a_relative_path_means_the_callers_folder(
    attached: AttachedEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "here.csv").write_text("id,x\n1,2\n")
    monkeypatch.chdir(tmp_path)
    result = attached.datasets.ingest(Path("here.csv"), "here")
    assert result.version.source_path == str(tmp_path / "here.csv")


def test_errors_cross_as_their_own_type_and_message(owner: Engine, attached: AttachedEngine) -> None:
    with pytest.raises(InvalidInput) as local:
        owner.datasets.resolve("nope")
    with pytest.raises(InvalidInput) as remote:
        attached.datasets.resolve("nope")
    assert type(remote.value) is type(local.value) and str(remote.value) == str(local.value)


def test_only_the_facade_is_reachable(owner: Engine, attached: AttachedEngine) -> None:
    with pytest.raises(AttributeError, match="not part of the engine's facade"):
        _ = attached.datasets._db
    for name in ("datasets._db", "close", "features.historical", "__class__.__init__"):
        answer = raw_call(owner.workspace, name, ((), {}))
        assert isinstance(answer["error"], InvalidInput) and "not a call of the engine's facade" in str(
            answer["error"]
        )
    assert not owner.closed


def test_every_call_of_the_surface_exists_on_the_engine(owner: Engine) -> None:
    for service, methods in SURFACE.items():
        for method in methods:
            assert callable(getattr(getattr(owner, service), method)), f"{service}.{method}"


def test_a_hostile_pickle_is_refused_and_runs_nothing(owner: Engine, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self) -> tuple[Any, ...]:
            return os.system, (f"touch {marker}",)

    frame = pickle.dumps(((Exploit(),), {}))
    with pytest.raises(codec.RefusedPickle, match=r"posix\.system may not cross"):
        codec.loads(frame)
    with connect(owner.workspace) as connection:  # the owner refuses it too, and carries on
        connection.send_bytes(json.dumps(header("datasets.summaries")).encode())
        connection.send_bytes(frame)
        with pytest.raises(EOFError):
            connection.recv_bytes()
    assert not marker.exists()
    assert raw_call(owner.workspace, "datasets.summaries", ((), {})) == {"result": []}


def test_what_cannot_cross_is_refused_in_one_line_by_the_side_that_has_it() -> None:
    with pytest.raises(InvalidInput, match=r"^cannot send DataFrame to another process: .*may not cross"):
        codec.dumps(pd.DataFrame({"a": [1]}))
    with pytest.raises(InvalidInput, match="cannot send function"):
        codec.dumps(lambda: None)


def test_plain_values_cross_unchanged() -> None:
    values = [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=ZoneInfo("Etc/UTC")),
        datetime(2026, 1, 2, tzinfo=UTC),
        Decimal("1.50"),
        UUID("12345678-1234-5678-1234-567812345678"),
        Path("/a/b"),
        {1, 2},
        frozenset({"x"}),
        (1, "two", None, 3.0, b"bytes"),
        RelayedCallback(0),
    ]
    assert codec.loads(codec.dumps(values)) == values


def test_the_caller_learns_at_once_that_the_owner_left(workspace: Path) -> None:
    engine = Engine.open(workspace, command="pytest owner")
    engine.serve(lambda request, stdout, stderr: 0)
    left: list[int] = []
    opening = Engine.claim_or_attach(workspace, command="pytest attached")
    assert isinstance(opening, Attachment)
    attached = opening.open(left.append)
    engine.close()
    wait_until(lambda: left == [os.getpid()], what="the owner's leaving noticed")
    with pytest.raises(OwnerGone, match=f"owner \\(pid {os.getpid()}\\) has stopped"):
        attached.status()
    attached.close()


def test_a_caller_that_detaches_is_not_told_the_owner_left(owner: Engine) -> None:
    left = threading.Event()
    opening = Engine.claim_or_attach(owner.workspace.root, command="pytest attached")
    assert isinstance(opening, Attachment)
    attached = opening.open(lambda pid: left.set())
    attached.close()
    wait_until(lambda: owner.status().clients == [], what="the owner dropping the client")
    assert not left.is_set()


def connect(workspace: Workspace) -> Any:
    endpoint = read_endpoint(workspace)
    assert endpoint is not None
    return Client(endpoint.address, family="AF_UNIX", authkey=workspace_key(workspace))


def header(name: str) -> dict[str, Any]:
    return {"protocol": PROTOCOL, "version": "test", "pid": os.getpid(), "call": name}


def raw_call(workspace: Workspace, name: str, arguments: tuple[Any, ...]) -> dict[str, Any]:
    """A call as another program could send it, bypassing the client's own checks."""
    with connect(workspace) as connection:
        connection.send_bytes(json.dumps(header(name)).encode())
        connection.send_bytes(codec.dumps(arguments))
        answer: dict[str, Any] = codec.loads(connection.recv_bytes())
        return answer


@pytest.fixture
def registry_owner(registry_workspace: Path) -> Iterator[Engine]:
    yield from serving(registry_workspace)


@pytest.mark.slow
def test_every_answer_the_console_asks_for_crosses(registry_owner: Engine, tmp_path: Path) -> None:
    """Each call the console's screens and actions make, through the endpoint: what comes back
    equals what the owner's engine returns itself (a value the codec could not carry, a numpy
    float or a pandas timestamp among DuckDB's or MLflow's answers, would fail here)."""
    owner = registry_owner
    opening = Engine.claim_or_attach(owner.workspace.root, command="pytest attached")
    assert isinstance(opening, Attachment)
    remote = opening.open(lambda pid: None)
    try:
        remote.datasets.ingest(SAMPLE / "churn_week_1.csv", "churn")
        same = [
            lambda e: e.datasets.diff("churn@v1", "churn@v2"),
            lambda e: e.datasets.versions("churn"),
            lambda e: e.quality.latest_report("churn@v1"),
            lambda e: e.suites.all(),
            lambda e: e.runs.search(),
            lambda e: e.runs.compare([run.run_id for run in owner.runs.search()]),
            lambda e: e.registry.models(),
            lambda e: e.registry.version("churn", 2),
            lambda e: e.pipelines.runs(),
            lambda e: e.events.recent(20),
        ]
        for call in same:
            assert call(remote) == call(owner)
        report = remote.quality.validate("churn@v2", "churn_suite")
        assert report == owner.quality.latest_report("churn@v2")
        remote.features.apply(SAMPLE / "features.toml")
        assert remote.features.views() == owner.features.views()
        materialized = remote.features.materialize()
        assert sum(item.rows_written for item in materialized) > 0
        assert remote.features.views() == owner.features.views()  # their freshness, now set
        entity = remote.features.parse_entity(["customer_id=119999"])
        found = remote.features.online(entity, ["customer_orders:tenure_days"], datetime(2026, 6, 29))
        assert found == owner.features.online(entity, ["customer_orders:tenure_days"], datetime(2026, 6, 29))
        promotion = remote.registry.promote("churn", 2, "champion", False, None, lambda *report: None)
        assert promotion.promoted
        assert remote.registry.moves("churn") == owner.registry.moves("churn")
        export = remote.registry.export_onnx("churn", 1)
        assert export == owner.registry.export_onnx("churn", 1)
        manifest = remote.registry.write_kserve_manifest("churn", 2)
        assert manifest.is_file() and "InferenceService" in manifest.read_text()
        remote.registry.promote("churn", 1, "champion", True, "a test", lambda *report: None)
        assert remote.registry.rollback("churn", "champion").to_version == 2
        # repr: an empty calibration bin's mean is NaN, which equals nothing, not even itself
        assert repr(remote.evaluation.recent()) == repr(owner.evaluation.recent())
        sweep = remote.training.sweep(
            SweepRequest(TrainRequest("churn@v1", "churned", "logistic_regression"), {"C": ["0.5", "1"]}),
            lambda *report: None,
        )
        assert len(sweep.trials) == 2
    finally:
        remote.close()
