"""The inference server's routes over real HTTP (uvicorn on 127.0.0.1): the seed's client as it
is, auth, the protocols' errors, request ids, and fuzzed bodies that never reach a traceback."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Router

from engine.errors import OwnerGone
from engine.facade import Engine
from engine.serving.app import ServerSettings, build_app
from engine.serving.model import ServedModel
from engine.serving.recorder import COLUMNS, PredictionRecorder
from engine.serving.routing import Endpoint
from engine.serving.tokens import TokenCheck
from engine.types.serving import PredictionBatch
from tests.conftest import wait_until
from tests.engine.serving.conftest import Exported

ENDPOINT = "churn-predictor"
LIMIT = 64 * 1024


@pytest.fixture
def server(engine: Engine, exported: Exported) -> Iterator[tuple[str, Engine, list[dict[str, Any]]]]:
    """The app on a free loopback port, serving version 2 as ``churn-predictor``."""
    record, rows = exported
    model = ServedModel.load("churn", 2, record.path, record.sha256)
    endpoints = {ENDPOINT: Endpoint(ENDPOINT, "single", {"primary": model}, {})}
    recorder = PredictionRecorder(lambda batch: None)  # every request's rows are built (not kept)
    app = build_app(lambda: endpoints, TokenCheck(engine.workspace), ServerSettings(LIMIT), recorder)
    features = [feature.column for feature in model.features]
    instances = [{column: row[column] for column in features} for row in rows[:20]]
    with serving(app) as url:
        yield url, engine, instances


@contextmanager
def serving(app: Router) -> Iterator[str]:
    """``app`` on uvicorn, on a free loopback port, until the block ends."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    running = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=running.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    wait_until(lambda: running.started, what="the server listening")
    try:
        yield f"http://127.0.0.1:{listening.getsockname()[1]}"
    finally:
        running.should_exit = True
        thread.join(10)
        listening.close()


def bearer(engine: Engine) -> dict[str, str]:
    return {"Authorization": f"Bearer {engine.workspace.default_token_path.read_text().strip()}"}


def test_the_seeds_client_works_unchanged(server: tuple[str, Engine, list[dict[str, Any]]]) -> None:
    url, engine, instances = server
    customer_data = instances[0]
    response = httpx.post(
        f"{url}/v1/models/{ENDPOINT}:predict", json={"instances": [customer_data]}, headers=bearer(engine)
    )
    result = response.json()
    assert response.status_code == 200
    assert 0.0 <= result["predictions"][0]["score"] <= 1.0
    assert result["predictions"][0]["label"] in (0, 1)
    assert result["id"] == response.headers["x-request-id"]
    several = httpx.post(
        f"{url}/v1/models/{ENDPOINT}:predict", json={"instances": instances}, headers=bearer(engine)
    )
    assert len(several.json()["predictions"]) == 20
    assert several.json()["predictions"][0] == result["predictions"][0]


def test_tokens_guard_every_route_but_health(server: tuple[str, Engine, list[dict[str, Any]]]) -> None:
    url, engine, instances = server
    body = {"instances": instances[:1]}
    predict = f"{url}/v1/models/{ENDPOINT}:predict"
    assert httpx.post(predict, json=body).status_code == 401
    assert httpx.post(predict, json=body, headers={"Authorization": "Basic abc"}).status_code == 401
    refused = httpx.post(predict, json=body, headers={"Authorization": "Bearer guessed"})
    assert refused.status_code == 403 and "not an active token" in refused.json()["error"]
    issued = engine.tokens.create("ci-bot")
    as_bot = {"Authorization": f"Bearer {issued.token}"}
    assert httpx.post(predict, json=body, headers=as_bot).status_code == 200
    engine.tokens.revoke("ci-bot")
    assert httpx.post(predict, json=body, headers=as_bot).status_code == 403
    for route in ("/v1/models", f"/v1/models/{ENDPOINT}"):
        assert httpx.get(f"{url}{route}").status_code == 401
        assert httpx.get(f"{url}{route}", headers=bearer(engine)).status_code == 200
    assert httpx.get(f"{url}/v2/health/live").json()["live"] is True
    assert "mlops_requests_total" in httpx.get(f"{url}/metrics").text  # open unless configured
    assert httpx.get(f"{url}/v2/health/ready").json()["ready"] is True


def test_bad_requests_are_named_in_the_protocols_error_shape(
    server: tuple[str, Engine, list[dict[str, Any]]],
) -> None:
    url, engine, instances = server
    headers = bearer(engine)
    predict = f"{url}/v1/models/{ENDPOINT}:predict"
    missing = httpx.post(predict, json={"instances": [{**instances[0], "age": "old"}]}, headers=headers)
    assert missing.status_code == 400
    assert missing.json()["error"] == 'instances[0].age: expected a number or null, got "old"'
    unknown = httpx.post(f"{url}/v1/models/nope:predict", json={"instances": []}, headers=headers)
    assert unknown.status_code == 404 and "served: churn-predictor" in unknown.json()["error"]
    no_route = httpx.get(f"{url}/v1/nope", headers=headers)
    assert no_route.status_code == 404 and no_route.json()["error"].startswith("no route '/v1/nope'")
    garbled = httpx.post(predict, content=b"{not json", headers=headers)
    assert garbled.status_code == 400 and garbled.json()["error"].startswith("the body is not valid JSON")
    assert httpx.post(predict, json=[1], headers=headers).status_code == 400
    assert (
        httpx.post(predict, json={"instances": []}, headers=headers).json()["error"].startswith("instances:")
    )
    big = httpx.post(predict, content=b"[" + b"1," * LIMIT + b"1]", headers=headers)
    assert big.status_code == 413
    sent = httpx.post(predict, json={"instances": []}, headers={**headers, "X-Request-Id": "label-join-7"})
    assert sent.headers["x-request-id"] == "label-join-7" and sent.json()["id"] == "label-join-7"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)


@pytest.mark.parametrize(
    ("route", "key"),
    [(f"/v1/models/{ENDPOINT}:predict", "instances"), (f"/v2/models/{ENDPOINT}/infer", "inputs")],
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSON, keep_key=st.booleans())
def test_no_body_reaches_a_traceback(
    server: tuple[str, Engine, list[dict[str, Any]]], route: str, key: str, body: Any, keep_key: bool
) -> None:
    url, engine, _ = server
    payload = {key: body} if keep_key else body
    response = httpx.post(
        f"{url}{route}",
        content=json.dumps(payload).encode(),
        headers={**bearer(engine), "Content-Type": "application/json"},
    )
    assert response.status_code in (200, 400), response.text
    assert ("error" in response.json()) == (response.status_code == 400)


def v2_inputs(instances: list[dict[str, Any]], kinds: dict[str, str]) -> list[dict[str, Any]]:
    """The rows as V2 tensors: one per feature, FP32 or BYTES, shape [n, 1], nested data."""
    return [
        {
            "name": column,
            "datatype": "FP32" if kind == "number" else "BYTES",
            "shape": [len(instances), 1],
            "data": [[row[column]] for row in instances],
        }
        for column, kind in kinds.items()
    ]


def changed(tensors: list[dict[str, Any]], name: str, **fields: Any) -> list[dict[str, Any]]:
    """The tensors with the one named ``name`` given other ``fields``."""
    return [{**tensor, **fields} if tensor["name"] == name else tensor for tensor in tensors]


def test_open_inference_v2_metadata_and_infer(server: tuple[str, Engine, list[dict[str, Any]]]) -> None:
    url, engine, instances = server
    headers = bearer(engine)
    metadata = httpx.get(f"{url}/v2/models/{ENDPOINT}", headers=headers).json()
    assert metadata["versions"] == ["2"] and metadata["platform"] == "onnxruntime_onnx"
    kinds = {
        item["name"]: "number" if item["datatype"] == "FP32" else "category" for item in metadata["inputs"]
    }
    assert [output["name"] for output in metadata["outputs"]] == ["score", "label"]
    assert httpx.get(f"{url}/v2/models/{ENDPOINT}/ready").json()["ready"] is True
    assert httpx.get(f"{url}/v2/models/nope/ready").status_code == 404
    assert httpx.get(f"{url}/v2", headers=headers).json()["name"] == "mlops-console"

    infer = f"{url}/v2/models/{ENDPOINT}/infer"
    answer = httpx.post(infer, json={"id": "req-1", "inputs": v2_inputs(instances, kinds)}, headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == "req-1" == answer.headers["x-request-id"]
    assert body["model_name"] == ENDPOINT and body["model_version"] == "2"
    score, label = body["outputs"]
    assert score["shape"] == [20] and label["datatype"] == "INT64"
    v1 = httpx.post(
        f"{url}/v1/models/{ENDPOINT}:predict", json={"instances": instances}, headers=headers
    ).json()
    assert score["data"] == [p["score"] for p in v1["predictions"]]
    assert label["data"] == [p["label"] for p in v1["predictions"]]

    tensors = v2_inputs(instances[:2], kinds)
    number = next(column for column, kind in kinds.items() if kind == "number")
    cases = [
        ({"inputs": []}, 'expected a JSON object with "inputs"'),
        ({"inputs": tensors[1:]}, f"inputs: no tensor for '{tensors[0]['name']}'"),
        ({"inputs": [*tensors, {**tensors[0]}]}, "a second tensor named"),
        ({"inputs": [{**tensors[0], "name": "plan"}, *tensors[1:]]}, "no feature named 'plan'"),
        (
            {"inputs": [{**t, "datatype": "BYTES"} if t["name"] == number else t for t in tensors]},
            f"inputs.{number}: datatype 'BYTES'",
        ),
        (
            {"inputs": [{**t, "shape": [2, 3]} if t["name"] == number else t for t in tensors]},
            "expected [n] or [n, 1]",
        ),
        (
            {"inputs": [{**t, "shape": [3, 1]} if t["name"] == number else t for t in tensors]},
            "holds 3 values, data has 2",
        ),
        (
            {"inputs": [{**t, "data": [["x"], [1]]} if t["name"] == number else t for t in tensors]},
            f"inputs.{number}[0]: expected a number",
        ),
    ]
    for request, message in cases:
        refused = httpx.post(infer, json=request, headers=headers)
        assert refused.status_code == 400 and message in refused.json()["error"], (message, refused.text)


def test_metrics_can_require_a_token(engine: Engine, exported: Exported) -> None:
    record, _ = exported
    model = ServedModel.load("churn", 2, record.path, record.sha256)
    settings = ServerSettings(LIMIT, metrics_need_token=True)
    endpoints = {ENDPOINT: Endpoint(ENDPOINT, "single", {"primary": model}, {})}
    with serving(build_app(lambda: endpoints, TokenCheck(engine.workspace), settings)) as url:
        assert httpx.get(f"{url}/metrics").status_code == 401
        assert httpx.get(f"{url}/metrics", headers=bearer(engine)).status_code == 200
        assert httpx.get(f"{url}/v2/health/live").status_code == 200


def test_every_request_is_logged_with_its_entity_time_and_shadow(engine: Engine, exported: Exported) -> None:
    record, rows = exported
    model = ServedModel.load("churn", 2, record.path, record.sha256)
    endpoints = {ENDPOINT: Endpoint(ENDPOINT, "shadow", {"primary": model, "shadow": model}, {})}
    batches: list[PredictionBatch] = []
    recorder = PredictionRecorder(batches.append)
    instances = [{f.column: row[f.column] for f in model.features} for row in rows[:2]]
    predict = f"{{}}/v1/models/{ENDPOINT}:predict"
    with serving(
        build_app(lambda: endpoints, TokenCheck(engine.workspace), ServerSettings(LIMIT), recorder)
    ) as url:
        headers = {**bearer(engine), "X-Entity": "customer_id=42", "X-Event-Time": "2026-06-29T04:37:48"}
        answered = httpx.post(predict.format(url), json={"instances": instances}, headers=headers)
        assert answered.status_code == 200
        bad = httpx.post(
            predict.format(url), json={"instances": instances}, headers={**headers, "X-Entity": "42"}
        )
        assert bad.status_code == 400 and bad.json()["error"].startswith(
            "X-Entity: '42', expected NAME=VALUE"
        )
        late = httpx.post(
            predict.format(url), json={"instances": instances}, headers={**headers, "X-Event-Time": "soon"}
        )
        assert late.status_code == 400 and "expected an ISO 8601 time" in late.json()["error"]
        assert httpx.post(predict.format(url), json={"instances": instances}).status_code == 401
        wait_until(
            lambda: recorder.flush() >= 0 and sum(map(len, batches)) == 7,
            what="4 shadow and primary rows and 3 refusals",
        )
    logged = [
        dict(zip(COLUMNS, values, strict=True))
        for b in batches
        for values in zip(*(getattr(b, c) for c in COLUMNS), strict=True)
    ]
    mine = [row for row in logged if row["request_id"] == answered.json()["id"]]
    assert sorted((row["variant"], row["row"]) for row in mine) == [
        ("primary", 0),
        ("primary", 1),
        ("shadow", 0),
        ("shadow", 1),
    ]
    first = next(row for row in mine if row["variant"] == "primary" and row["row"] == 0)
    assert (first["entity_key"], first["entity"], first["status"], first["model"], first["version"]) == (
        "customer_id",
        "42",
        200,
        "churn",
        2,
    )
    assert first["event_time"] == datetime(2026, 6, 29, 4, 37, 48, tzinfo=UTC).timestamp()
    assert json.loads(first["features"]) == instances[0]
    assert first["score"] == answered.json()["predictions"][0]["score"]
    refusals = sorted((row["status"], row["error"][:9]) for row in logged if row["variant"] is None)
    assert refusals == [(400, "X-Entity:"), (400, "X-Event-T"), (401, "this rout")]


def test_rows_the_owner_cannot_take_are_kept_then_dropped_past_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engine.serving import recorder as recorder_module

    taken: list[int] = []
    refusing = True

    def hand_over(batch: PredictionBatch) -> None:
        if refusing:
            raise OwnerGone("the owner is restarting")
        taken.append(len(batch))

    monkeypatch.setattr(recorder_module, "MAX_HELD_ROWS", 5)
    recorder = PredictionRecorder(hand_over)
    row = (0.0, 0.0, "e", None, None, None, "r", None, None, None, None, None, None, 1.0, 200, None)
    recorder.add([row] * 3)
    with pytest.raises(OwnerGone):
        recorder.flush()
    recorder.add([row] * 4)  # 7 held, over the limit of 5: the 2 oldest go
    refusing = False
    assert recorder.flush() == 5 and taken == [5]
    recorder.add([row])
    recorder.close()
    assert taken == [5, 1]
