"""The inference server's HTTP face: KServe V1 and Open Inference V2 routes on Starlette.

Starlette rather than KServe's own model server or FastAPI: KServe's server was measured here
(DESIGN.md) at 0.70-0.79 ms p50 against 0.25-0.31 ms for a bare ASGI handler on the same
forest, and FastAPI's request models would validate what ``ServedModel`` already checks value
by value. The routes parse JSON themselves (the standard library's parser; no hand-written
HTTP: uvicorn speaks HTTP) and answer errors in the protocols' shape, ``{"error": "..."}``,
naming the field and what was expected; nothing a client sends reaches a traceback.

Who may ask: predict, infer and metadata routes need ``Authorization: Bearer <token>``, one of
the workspace's active tokens (tokens.py); health routes are open. Every answer carries a
request id, in the ``X-Request-Id`` header and in the body, taken from the client's header when
it sends one, so late labels can be joined to the prediction.

Every prediction request, answered or refused, is logged (recorder.py): one row per instance
with the variant that answered it, or one row with the error. Two optional headers add to the
row: ``X-Entity: customer_id=42`` (whose prediction it is: late labels join by it, and an A/B
test can split by it) and ``X-Event-Time`` (when the row happened, ISO 8601, UTC if no offset is
given: a replayed row's own time; else the time it was answered).
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router
from starlette.types import Receive, Scope, Send

from engine.errors import InvalidInput, MlopsError
from engine.serving import metrics, v2
from engine.serving.model import Prediction, ServedModel
from engine.serving.recorder import LogRow, PredictionRecorder
from engine.serving.routing import Arm, Endpoint, RequestKeys, Routed
from engine.serving.tokens import TokenCheck
from engine.version import __version__

REQUEST_ID_HEADER = "x-request-id"
ENTITY_HEADER = "x-entity"
EVENT_TIME_HEADER = "x-event-time"
MAX_REQUEST_ID = 128
NOT_SERVED = "(not served)"


@dataclass(frozen=True)
class ServerSettings:
    max_body_bytes: int = 1 << 20
    metrics_need_token: bool = False


# The endpoints served now, by name (the deployments, resolved); called per request, so a
# change of what is served shows at the next request.
Endpoints = Callable[[], Mapping[str, Endpoint]]


class _Refused(Exception):
    """A request answered with an error: its status and the message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class _Facts:
    """What the log records of a request besides its rows."""

    logged_at: float
    event_time: float
    endpoint: str
    request_id: str
    entity_key: str | None
    entity: str | None


# The workspace's monitoring metrics in Prometheus' text format, from the owner (the drift,
# accuracy, alert and job figures engine/monitoring/gauges.py reads), for /metrics to append.
MonitoringMetrics = Callable[[], str]

# A prediction route's work: the answer's body and how the endpoint routed its rows.
Answer = Callable[[Request, Endpoint, RequestKeys], Awaitable[tuple[dict[str, Any], Routed]]]


def build_app(
    endpoints: Endpoints,
    tokens: TokenCheck,
    settings: ServerSettings | None = None,
    recorder: PredictionRecorder | None = None,
    monitoring: MonitoringMetrics | None = None,
) -> Router:
    """The routes as a bare ``Router``: Starlette's application adds two middleware layers per
    request (for exception handlers and debug pages this server has no use for), which cost a
    few percent of its throughput; an unexpected exception is still a plain 500 from uvicorn,
    without a traceback to the client."""
    handlers = _Handlers(endpoints, tokens, settings or ServerSettings(), recorder, monitoring)
    return Router(
        routes=[
            Route("/v2/health/live", handlers.live, methods=["GET"]),
            Route("/v2/health/ready", handlers.ready, methods=["GET"]),
            Route("/v1/models", handlers.v1_models, methods=["GET"]),
            Route("/v1/models/{name}:predict", handlers.v1_predict, methods=["POST"]),
            Route("/v1/models/{name}", handlers.v1_model, methods=["GET"]),
            Route("/v2", handlers.v2_server, methods=["GET"]),
            Route("/v2/models/{name}/ready", handlers.v2_model_ready, methods=["GET"]),
            Route("/v2/models/{name}/infer", handlers.v2_infer, methods=["POST"]),
            Route("/v2/models/{name}", handlers.v2_model, methods=["GET"]),
            Route("/metrics", handlers.metrics, methods=["GET"]),
        ],
        default=_no_such_route,
    )


class _Handlers:
    def __init__(
        self,
        endpoints: Endpoints,
        tokens: TokenCheck,
        settings: ServerSettings,
        recorder: PredictionRecorder | None,
        monitoring: MonitoringMetrics | None,
    ) -> None:
        self._endpoints = endpoints
        self._tokens = tokens
        self._settings = settings
        self._recorder = recorder
        self._monitoring = monitoring

    async def live(self, request: Request) -> Response:
        return _answer(request, {"live": True})

    async def ready(self, request: Request) -> Response:
        return _answer(request, {"ready": bool(self._endpoints())})

    async def v1_models(self, request: Request) -> Response:
        return _refusals_answered(
            request, lambda: self._with_token(request, {"models": sorted(self._endpoints())})
        )

    async def v1_model(self, request: Request) -> Response:
        return _refusals_answered(
            request, lambda: _v1_metadata(request.path_params["name"], self._guarded(request).model)
        )

    async def v2_server(self, request: Request) -> Response:
        server = {"name": "mlops-console", "version": __version__, "extensions": []}
        return _refusals_answered(request, lambda: self._with_token(request, server))

    async def v2_model(self, request: Request) -> Response:
        return _refusals_answered(
            request, lambda: v2.metadata(request.path_params["name"], self._guarded(request).model)
        )

    async def v2_model_ready(self, request: Request) -> Response:
        name = request.path_params["name"]
        ready = name in self._endpoints()
        return _answer(request, {"name": name, "ready": ready}, 200 if ready else 404)

    async def metrics(self, request: Request) -> Response:
        if self._settings.metrics_need_token:
            try:
                self._check_token(request)
            except _Refused as refused:
                return _error(request, refused.status, refused.message)
        body = metrics.exposition()
        if self._monitoring is not None:
            try:
                body += (await run_in_threadpool(self._monitoring)).encode()
            except MlopsError as error:  # the owner busy or gone: the serving figures still count
                body += f"# the workspace's monitoring metrics are unavailable: {error}\n".encode()
        return Response(body, media_type=metrics.CONTENT_TYPE)

    async def v1_predict(self, request: Request) -> Response:
        return await self._measured(request, "v1", self._v1_predict)

    async def v2_infer(self, request: Request) -> Response:
        return await self._measured(request, "v2", self._v2_infer)

    async def _measured(self, request: Request, protocol: str, answer: Answer) -> Response:
        """``answer``'s response, counted and timed (metrics.py) and logged (recorder.py): each
        row with the variant that answered it, or the refusal; a shadow answers after."""
        started = time.perf_counter()
        logged_at = time.time()
        name = request.path_params["name"]
        routed: Routed | None = None
        error: str | None = None
        entity_key = entity = None
        event_time = logged_at
        metrics.IN_FLIGHT.inc()
        try:
            endpoint = self._guarded(request)
            entity_key, entity = _entity(request)
            event_time = _event_time(request, logged_at)
            keys = RequestKeys(entity_key, entity, request.headers.get)
            body, routed = await answer(request, endpoint, keys)
            response = _answer(request, body)
        except _Refused as refused:
            error = refused.message
            response = _error(request, refused.status, refused.message)
        finally:
            metrics.IN_FLIGHT.dec()
        seconds = time.perf_counter() - started
        served = routed is not None or name in self._endpoints()
        metrics.observed(name if served else NOT_SERVED, protocol, response.status_code, seconds, routed)
        if self._recorder is not None:
            facts = _Facts(
                logged_at, event_time, name[:MAX_REQUEST_ID], _request_id(request), entity_key, entity
            )
            self._recorder.add(_log_rows(facts, routed, response.status_code, error, seconds * 1000))
            if routed is not None and routed.shadow is not None:
                response.background = BackgroundTask(self._shadow_answers, facts, routed)
        return response

    async def _shadow_answers(self, facts: _Facts, routed: Routed) -> None:
        """The shadow's answers to the rows the client has been answered for: logged, not sent."""
        shadow = routed.shadow
        assert shadow is not None and self._recorder is not None
        started = time.perf_counter()
        predictions = shadow.model.run(routed.rows)
        milliseconds = (time.perf_counter() - started) * 1000
        shadowed = Routed(routed.rows, predictions, [shadow] * len(predictions), None)
        self._recorder.add(_log_rows(facts, shadowed, 200, None, milliseconds))

    async def _v1_predict(
        self, request: Request, endpoint: Endpoint, keys: RequestKeys
    ) -> tuple[dict[str, Any], Routed]:
        body = await self._json_body(request)
        if not isinstance(body, dict) or "instances" not in body:
            raise _Refused(400, 'expected a JSON object with "instances": a list of rows')
        routed = endpoint.answer(_checked(lambda: endpoint.model.rows(body["instances"])), keys)
        return {"predictions": [{"score": p.score, "label": p.label} for p in routed.predictions]}, routed

    async def _v2_infer(
        self, request: Request, endpoint: Endpoint, keys: RequestKeys
    ) -> tuple[dict[str, Any], Routed]:
        body = await self._json_body(request)
        if isinstance(body, dict) and isinstance(body.get("id"), str) and body["id"]:
            request.scope.setdefault("state", {})["request_id"] = body["id"][:MAX_REQUEST_ID]
        model = endpoint.model
        routed = endpoint.answer(_checked(lambda: model.rows(v2.rows(model, body), v2.place)), keys)
        answer = {
            "model_name": request.path_params["name"],
            "model_version": str(model.version),
            "outputs": v2.outputs(model, routed.predictions),
        }
        return answer, routed

    def _check_token(self, request: Request) -> None:
        """Refuse: 401 without a bearer token, 403 with one that is unknown or revoked."""
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise _Refused(401, "this route needs the header Authorization: Bearer <token>")
        if self._tokens.name_of(presented.strip()) is None:
            raise _Refused(403, "the bearer token is not an active token of this workspace")

    def _with_token(self, request: Request, answer: dict[str, Any]) -> dict[str, Any]:
        self._check_token(request)
        return answer

    def _guarded(self, request: Request) -> Endpoint:
        """The endpoint the URL names, for a request with an active token."""
        self._check_token(request)
        name = request.path_params["name"]
        endpoints = self._endpoints()
        endpoint = endpoints.get(name)
        if endpoint is None:
            served = ", ".join(sorted(endpoints)) or "none yet"
            raise _Refused(404, f"no model named {name!r} is served; served: {served}")
        return endpoint

    async def _json_body(self, request: Request) -> Any:
        limit = self._settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _Refused(413, f"the body is over the limit of {limit:,} bytes")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise _Refused(413, f"the body is over the limit of {limit:,} bytes")
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            raise _Refused(400, f"the body is not valid JSON: {error}") from None


async def _no_such_route(scope: Scope, receive: Receive, send: Send) -> None:
    path = str(scope.get("path", ""))[:200]
    message = f"no route {path!r}; the server answers /v1/models/NAME:predict and /v2/models/NAME/infer"
    await JSONResponse({"error": message}, 404)(scope, receive, send)


def _checked(rows: Callable[[], list[list[Any]]]) -> list[list[Any]]:
    try:
        return rows()
    except InvalidInput as problem:
        raise _Refused(400, str(problem)) from None


def _refusals_answered(request: Request, body: Callable[[], dict[str, Any]]) -> Response:
    try:
        return _answer(request, body())
    except _Refused as refused:
        return _error(request, refused.status, refused.message)


def _entity(request: Request) -> tuple[str | None, str | None]:
    """The request's ``X-Entity: NAME=VALUE``, if it sent one."""
    sent = request.headers.get(ENTITY_HEADER)
    if sent is None:
        return None, None
    key, equals, value = sent.partition("=")
    if not equals or not key.strip() or len(sent) > MAX_REQUEST_ID:
        raise _Refused(400, f"X-Entity: {sent[:40]!r}, expected NAME=VALUE, e.g. customer_id=42")
    return key.strip(), value.strip()


def _event_time(request: Request, answered_at: float) -> float:
    """The request's ``X-Event-Time`` in seconds since the epoch, else when it was answered."""
    sent = request.headers.get(EVENT_TIME_HEADER)
    if sent is None:
        return answered_at
    try:
        when = datetime.fromisoformat(sent)
    except ValueError:
        raise _Refused(
            400, f"X-Event-Time: {sent[:40]!r}, expected an ISO 8601 time such as 2026-06-29T04:37:48"
        ) from None
    return (when if when.tzinfo is not None else when.replace(tzinfo=UTC)).timestamp()


def _log_rows(
    facts: _Facts, routed: Routed | None, status: int, error: str | None, milliseconds: float
) -> list[LogRow]:
    """The request's rows for the log, in ``recorder.COLUMNS`` order: one per answered row, or
    one carrying the error."""
    if routed is None:
        return [_log_row(facts, None, None, None, milliseconds, status, error)]
    columns = [feature.column for feature in routed.arms[0].model.features]
    return [
        _log_row(
            facts, index, arm, (dict(zip(columns, row, strict=True)), prediction), milliseconds, status, None
        )
        for index, (row, arm, prediction) in enumerate(
            zip(routed.rows, routed.arms, routed.predictions, strict=True)
        )
    ]


def _log_row(
    facts: _Facts,
    index: int | None,
    arm: Arm | None,
    answered: tuple[dict[str, Any], Prediction] | None,
    milliseconds: float,
    status: int,
    error: str | None,
) -> LogRow:
    features, prediction = answered if answered is not None else (None, None)
    return (
        facts.logged_at,
        facts.event_time,
        facts.endpoint,
        arm.role if arm else None,
        arm.model.name if arm else None,
        arm.model.version if arm else None,
        facts.request_id,
        index,
        facts.entity_key,
        facts.entity,
        None if features is None else json.dumps(features),
        prediction.score if prediction else None,
        str(prediction.label) if prediction else None,
        milliseconds,
        status,
        error,
    )


def _v1_metadata(name: str, model: ServedModel) -> dict[str, Any]:
    return {
        "name": name,
        "model": model.name,
        "version": model.version,
        "ready": True,
        "features": [{"name": f.column, "type": f.kind} for f in model.features],
    }


# A new request id: this process's random prefix and a counter, as unique as a UUID4 across
# processes and restarts (64 random bits per process), at a fraction of its cost per request.
_ID_PREFIX = os.urandom(8).hex()
_ID_COUNTER = itertools.count()


def _request_id(request: Request) -> str:
    """The client's id if it sent a usable one, else a new one (kept for the whole request)."""
    known = request.scope.setdefault("state", {}).get("request_id")
    if known is not None:
        return str(known)
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    usable = sent and len(sent) <= MAX_REQUEST_ID and sent.isprintable()
    chosen = sent if usable else f"{_ID_PREFIX}{next(_ID_COUNTER):08x}"
    request.scope["state"]["request_id"] = chosen
    return chosen


def _answer(request: Request, body: dict[str, Any], status: int = 200) -> Response:
    request_id = _request_id(request)
    return JSONResponse({**body, "id": request_id}, status, headers={"X-Request-Id": request_id})


def _error(request: Request, status: int, message: str) -> Response:
    return _answer(request, {"error": message}, status)
