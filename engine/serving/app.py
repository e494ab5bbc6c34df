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
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from engine.errors import InvalidInput
from engine.serving import metrics, v2
from engine.serving.model import Prediction
from engine.serving.routing import Servable
from engine.serving.tokens import TokenCheck
from engine.version import __version__

REQUEST_ID_HEADER = "x-request-id"
MAX_REQUEST_ID = 128


@dataclass(frozen=True)
class ServerSettings:
    max_body_bytes: int = 1 << 20
    metrics_need_token: bool = False


# The models served now, by endpoint name (the deployments, resolved); called per request, so a
# change of what is served shows at the next request.
Models = Callable[[], Mapping[str, Servable]]
# A prediction route's work: its response and the predictions it made (for the metrics).
Answer = Callable[[Request], Awaitable[tuple[Response, list[Prediction]]]]


def build_app(models: Models, tokens: TokenCheck, settings: ServerSettings | None = None) -> Starlette:
    settings = settings or ServerSettings()
    handlers = _Handlers(models, tokens, settings)
    return Starlette(
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
        ]
    )


class _Handlers:
    def __init__(self, models: Models, tokens: TokenCheck, settings: ServerSettings) -> None:
        self._models = models
        self._tokens = tokens
        self._settings = settings

    async def live(self, request: Request) -> Response:
        return _answer(request, {"live": True})

    async def ready(self, request: Request) -> Response:
        return _answer(request, {"ready": bool(self._models())})

    async def v1_models(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        return _answer(request, {"models": sorted(self._models())})

    async def v1_model(self, request: Request) -> Response:
        model = self._guarded_model(request)
        if isinstance(model, Response):
            return model
        return _answer(request, _v1_metadata(request.path_params["name"], model))

    async def metrics(self, request: Request) -> Response:
        if self._settings.metrics_need_token:
            refused = self._refused(request)
            if refused is not None:
                return refused
        return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)

    async def v1_predict(self, request: Request) -> Response:
        return await self._measured(request, "v1", self._v1_predict)

    async def v2_infer(self, request: Request) -> Response:
        return await self._measured(request, "v2", self._v2_infer)

    async def _measured(self, request: Request, protocol: str, answer: Answer) -> Response:
        """``answer``'s response, counted and timed (metrics.py) with its predictions' scores."""
        started = time.perf_counter()
        with metrics.IN_FLIGHT.track_inprogress():
            response, predictions = await answer(request)
        name = request.path_params["name"]
        endpoint = name if name in self._models() else "(not served)"  # no label per URL typed
        metrics.observed(endpoint, protocol, response.status_code, time.perf_counter() - started, predictions)
        return response

    async def _v1_predict(self, request: Request) -> tuple[Response, list[Prediction]]:
        model = self._guarded_model(request)
        if isinstance(model, Response):
            return model, []
        body = await self._json_body(request)
        if isinstance(body, Response):
            return body, []
        if not isinstance(body, dict) or "instances" not in body:
            return _error(request, 400, 'expected a JSON object with "instances": a list of rows'), []
        try:
            predictions = model.predict(body["instances"])
        except InvalidInput as problem:
            return _error(request, 400, str(problem)), []
        answer = {"predictions": [{"score": p.score, "label": p.label} for p in predictions]}
        return _answer(request, answer), predictions

    async def v2_server(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        return _answer(request, {"name": "mlops-console", "version": __version__, "extensions": []})

    async def v2_model_ready(self, request: Request) -> Response:
        name = request.path_params["name"]
        ready = name in self._models()
        return _answer(request, {"name": name, "ready": ready}, 200 if ready else 404)

    async def v2_model(self, request: Request) -> Response:
        model = self._guarded_model(request)
        if isinstance(model, Response):
            return model
        return _answer(request, v2.metadata(request.path_params["name"], model))

    async def _v2_infer(self, request: Request) -> tuple[Response, list[Prediction]]:
        model = self._guarded_model(request)
        if isinstance(model, Response):
            return model, []
        body = await self._json_body(request)
        if isinstance(body, Response):
            return body, []
        if isinstance(body, dict) and isinstance(body.get("id"), str) and body["id"]:
            request.scope.setdefault("state", {})["request_id"] = body["id"][:MAX_REQUEST_ID]
        try:
            predictions = model.predict(v2.rows(model, body), v2.place)
        except InvalidInput as problem:
            return _error(request, 400, str(problem)), []
        answer = {
            "model_name": request.path_params["name"],
            "model_version": str(model.version),
            "outputs": v2.outputs(model, predictions),
        }
        return _answer(request, answer), predictions

    def _refused(self, request: Request) -> Response | None:
        """401 without a bearer token, 403 with one that is unknown or revoked."""
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return _error(request, 401, "this route needs the header Authorization: Bearer <token>")
        if self._tokens.name_of(presented.strip()) is None:
            return _error(request, 403, "the bearer token is not an active token of this workspace")
        return None

    def _guarded_model(self, request: Request) -> Servable | Response:
        """The model the URL names, for a request with an active token; else the refusal."""
        return self._refused(request) or self._model(request)

    def _model(self, request: Request) -> Servable | Response:
        name = request.path_params["name"]
        models = self._models()
        model = models.get(name)
        if model is None:
            served = ", ".join(sorted(models)) or "none yet"
            return _error(request, 404, f"no model named {name!r} is served; served: {served}")
        return model

    async def _json_body(self, request: Request) -> Any:
        limit = self._settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return _error(request, 413, f"the body is over the limit of {limit:,} bytes")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return _error(request, 413, f"the body is over the limit of {limit:,} bytes")
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            return _error(request, 400, f"the body is not valid JSON: {error}")


def _v1_metadata(name: str, model: Servable) -> dict[str, Any]:
    return {
        "name": name,
        "model": model.name,
        "version": model.version,
        "ready": True,
        "features": [{"name": f.column, "type": f.kind} for f in model.features],
    }


def _request_id(request: Request) -> str:
    """The client's id if it sent a usable one, else a new one (kept for the whole request)."""
    known = request.scope.setdefault("state", {}).get("request_id")
    if known is not None:
        return str(known)
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    chosen = sent if sent and len(sent) <= MAX_REQUEST_ID and sent.isprintable() else uuid.uuid4().hex
    request.scope["state"]["request_id"] = chosen
    return chosen


def _answer(request: Request, body: dict[str, Any], status: int = 200) -> Response:
    request_id = _request_id(request)
    return JSONResponse({**body, "id": request_id}, status, headers={"X-Request-Id": request_id})


def _error(request: Request, status: int, message: str) -> Response:
    return _answer(request, {"error": message}, status)
