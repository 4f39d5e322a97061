"""The ASGI app of a PredictionService: `GET /health`, `POST /predict`, `GET /metrics`, `/openapi.json`, `/docs`.

Every error is a JSON body `{"error": ..., "details": [...], "fix": ...}`; bad input is always a 4xx, and a
500 means a bug in podium (logged with its traceback). The body is read by podium, not by FastAPI, so its
size is checked before it is read and its errors name row and column (agent/services/serve/payload.py). The model
predicts on the event loop: a compact model answers in microseconds, and serving scales by processes
(`--workers`) or replicas (`--ray-address`), not threads.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from agent.config import ServeSettings
from agent.errors import InputError
from agent.services.serve.metrics import CONTENT_TYPE, ServeMetrics
from agent.services.serve.openapi import add_to_openapi, request_models
from agent.services.serve.payload import RequestError
from agent.services.serve.service import PredictionService
from agent.webserver import REFUSED

log = logging.getLogger("podium.serve")
ROUTES = {"/health": "GET", "/predict": "POST", "/metrics": "GET", "/openapi.json": "GET", "/docs": "GET"}
JSON_TYPES = ("application/json",)
FIX = "use GET /health or POST /predict with a JSON body (GET /docs lists every endpoint)"
ARTIFACT_ENV, SETTINGS_ENV = "PODIUM_SERVE_ARTIFACT", "PODIUM_SERVE_SETTINGS"


def json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    data = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
    return Response(data, status, {"Cache-Control": "no-store", **(headers or {})},
                    media_type="application/json; charset=utf-8")


def build_app(service: PredictionService, metrics: ServeMetrics | None = None) -> ServeApp:
    """The app for one loaded model: FastAPI for every route, with POST /predict answered on plain ASGI first."""
    metrics = metrics or ServeMetrics(service.settings.request_log)
    return ServeApp(api_app(service, metrics), service, metrics)


def api_app(service: PredictionService, metrics: ServeMetrics) -> FastAPI:
    """The FastAPI app: routes, error bodies, the OpenAPI document generated from schema.json."""
    model = service.model
    app = FastAPIOffline(title=f"podium serve: {model.name}", redoc_url=None,
                         description=f"Predicts {model.output.target} ({model.output.problem_type}, scored by "
                                     f"{model.output.metric}) from rows of the competition's input columns.")

    @app.get("/health", summary="The model, its input and its limits")
    async def health() -> Response:
        return json_response(200, service.health())

    app.add_api_route("/health", health, methods=["HEAD"], include_in_schema=False)

    @app.post("/predict", summary="Predict rows", response_model=None)
    async def predict(request: Request) -> Response:  # documents the route; ServeApp answers it first
        status, answer = await predict_answer(service, metrics, request.headers, request.receive)
        return json_response(status, answer)

    @app.get("/metrics", summary="Prometheus metrics (text format)", response_model=None)
    async def prometheus() -> Response:
        return Response(metrics.render(), 200, media_type=CONTENT_TYPE)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        path = request.url.path.rstrip("/") or "/"
        allowed = ROUTES.get(path)
        if error.status_code == 405 and allowed:
            return json_response(405, {"error": f"{request.method} is not allowed on {path}", "details": [],
                                       "fix": f"use {allowed} {path}"}, headers={"Allow": allowed})
        if error.status_code == 404:
            return json_response(404, {"error": f"No such endpoint: {path}", "details": [], "fix": FIX})
        return json_response(error.status_code, {"error": str(error.detail), "details": [], "fix": FIX})

    @app.exception_handler(Exception)
    async def bug(request: Request, error: Exception) -> Response:
        log.error("%s %s failed", request.method, request.url.path, exc_info=error)
        return json_response(500, {"error": "Internal error (a bug in podium; the server log has the traceback)",
                                   "details": []})

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description,
                                   routes=app.routes)
            app.openapi_schema = add_to_openapi(document, request_models(model))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


async def predict_answer(service: PredictionService, metrics: ServeMetrics, headers: Mapping[str, str],
                         receive: Receive) -> tuple[int, dict[str, Any]]:
    """POST /predict from its headers and body stream to a status and a JSON body; never raises for input."""
    try:
        body = await read_body(headers, receive, service.settings.max_body_bytes)
        check_content_type(headers.get("content-type"))
        answer = service.predict_body(body)
    except RequestError as error:
        log.info("POST /predict -> %d: %s", error.status, error.message)
        return error.status, error.body()
    except InputError as error:  # the model's own checks: still the client's input
        return 422, {"error": error.what, "details": [error.where] if error.where else [], "fix": error.fix}
    metrics.rows.inc(len(answer["predictions"]))
    return 200, answer


async def read_body(headers: Mapping[str, str], receive: Receive, limit: int) -> bytes:
    """The whole body, refused (411/413) before it is read when its size is unknown or too large."""
    if headers.get("transfer-encoding"):
        raise RequestError(411, "Chunked request bodies are not accepted",
                           fix="send the body with a Content-Length header")
    length_text = headers.get("content-length")
    if length_text is None:
        raise RequestError(411, "The request has no Content-Length header",
                           fix="send the JSON body with a Content-Length header")
    length = int(length_text)  # the HTTP parser already refused anything but digits
    if length > limit:
        raise RequestError(413, f"The request body has {length:,} bytes; this server accepts at most {limit:,}",
                           fix="send fewer rows per request (serve.max_body_bytes)")
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise RequestError(400, "The client went away before its request arrived", fix="send the whole body")
        body += message.get("body", b"")
        if len(body) > limit:  # more than declared: refused while reading, not after
            raise RequestError(413, f"The request body has more than {limit:,} bytes",
                               fix="send fewer rows per request (serve.max_body_bytes)")
        if not message.get("more_body", False):
            return bytes(body)


def check_content_type(value: str | None) -> None:
    media = (value or "").split(";")[0].strip().lower()
    if media not in JSON_TYPES:
        raise RequestError(415, f"Content-Type must be application/json, not {value!r}" if value else
                           "The request has no Content-Type; it must be application/json",
                           fix="send the header Content-Type: application/json")


class ServeApp:
    """The outermost ASGI app: times and counts every request, answers POST /predict itself (the hot path,
    without FastAPI's request and routing layers), and hands everything else to the FastAPI app."""

    def __init__(self, api: FastAPI, service: PredictionService, metrics: ServeMetrics):
        self.api = api
        self.service = service
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.api(scope, receive, send)
            return
        started = time.perf_counter()
        path = scope["path"].rstrip("/") or "/"
        if path == "/predict" and scope["method"] == "POST":
            headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
            status, answer = await predict_answer(self.service, self.metrics, headers, receive)
            response = json_response(status, answer)
            await response(scope, receive, send)
            self.metrics.observe(path, scope.get(REFUSED, status), time.perf_counter() - started)
            return
        status = 500

        async def sent(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.api(scope, receive, sent)
        finally:
            self.metrics.observe(path if path in ROUTES else "other", scope.get(REFUSED, status),
                                 time.perf_counter() - started)

    def refused(self, status: int) -> None:
        """A request the server answered before it reached this app (431, 408, not HTTP): counted under the
        route "other", beside every answered request."""
        self.metrics.requests.labels("other", str(status)).inc()


def app_from_environment() -> ServeApp:
    """The app a worker process builds (uvicorn's factory): artifact and settings come from its environment."""
    settings = ServeSettings.model_validate_json(os.environ[SETTINGS_ENV])
    app = build_app(PredictionService.load(os.environ[ARTIFACT_ENV], settings))
    freeze_heap()
    return app


def freeze_heap() -> None:
    """Move everything loaded so far (libraries, the model) out of the collector's sight: a serving process's
    full collections then walk only what requests allocate, not the whole heap."""
    gc.collect()
    gc.freeze()
