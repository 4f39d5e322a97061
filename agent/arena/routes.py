"""The kaggle client's endpoints: `POST /v1/<service>/<Method>` (and `/api/v1/...`), signed blob links,
submission uploads, `/healthz`.

The protocol itself is api.py's; this layer reads bodies under a cap (bodies.py), finds the caller in the
Authorization header, and turns ApiError, Redirect and FileBody into HTTP. Errors are Kaggle's JSON body,
`{"code": N, "message": "..."}`; bad input is a 4xx, never a 500. Store and protocol calls run on worker
threads (SQLite, the fault injector's hang), so the event loop only moves bytes.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from pathlib import Path
from urllib.parse import unquote

import anyio
import anyio.from_thread
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from agent.arena.api import ApiError, Call, FileBody, Redirect
from agent.arena.bodies import MAX_JSON_BYTES, read_all, read_body
from agent.arena.hosting import Arena
from agent.arena.sessions import from_authorization
from agent.atomic import write_with

log = logging.getLogger("podium.arena")
SERVICE = re.compile(r"^[A-Za-z.]+$")
METHOD = re.compile(r"^[A-Za-z]+$")
BLOB = re.compile(r"^/blobs/(bundle|file)/([^/]+)/([^/]+)$")
UPLOAD = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$")
API_PREFIXES = ("/v1/", "/api/", "/blobs/", "/uploads/", "/healthz")
CHUNK = 1 << 16
Endpoint = Callable[[Request], Awaitable[Response]]


def arena_of(request: Request) -> Arena:
    return request.app.state.arena


def base_url(request: Request) -> str:
    """The address the caller used (links it gets must work from where it stands), if it is a plain host."""
    host = request.headers.get("host", "")
    return f"http://{host}" if HOST.match(host) else arena_of(request).url


def json_response(status: int, payload, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload).encode(), status, headers, media_type="application/json; charset=utf-8")


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="podium arena"'
    if status == 413:
        headers["Connection"] = "close"  # the rest of the body is not read
    return json_response(status, {"code": status, "message": message}, headers)


def guarded(endpoint: Endpoint) -> Endpoint:
    """Answer every failure: ApiError as itself, malformed values as 400, a bug as 500 (and logged)."""

    async def answer(request: Request) -> Response:
        try:
            return await endpoint(request)
        except ApiError as error:
            return error_response(error.status, error.message)
        except (ValueError, TypeError, KeyError) as error:
            return error_response(400, f"Bad request: {error}")
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it
        except Exception:  # noqa: BLE001 - a server answers 500 rather than dropping the connection
            log.exception("Request %s %s failed", request.method, request.url.path)
            return error_response(500, "Internal error in the arena")

    return answer


# --- RPCs -----------------------------------------------------------------------------------------------


@guarded
async def rpc(request: Request) -> Response:
    service, method = request.path_params["service"], request.path_params["method"]
    if not (SERVICE.match(service) and METHOD.match(method)):
        raise ApiError(404, f"No such endpoint: {request.url.path}")
    body = await read_all(request, MAX_JSON_BYTES)
    return await run_in_threadpool(answer_rpc, arena_of(request), service, method, body,
                                   request.headers.get("authorization", ""), base_url(request))


def answer_rpc(arena: Arena, service: str, method: str, body: bytes, authorization: str,
               base: str) -> Response:
    faults = arena.faults
    faults.wait()
    if faults.take_throttle():
        headers = {"Retry-After": faults.retry_after} if faults.retry_after else None
        return error_response(429, "Too many requests: slow down and retry later", headers)
    handler = arena.api.handlers.get((service, method))
    if handler is None:
        raise ApiError(404, f"The arena does not implement {service}/{method}")
    try:
        payload = json.loads(body or b"{}")
    except RecursionError:
        raise ApiError(400, "The request body nests JSON too deeply") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "The request body must be a JSON object")
    user = from_authorization(arena.store, authorization)
    if user is None and method != "IntrospectToken":
        raise ApiError(401, "Unauthenticated: send a valid username and key (Basic) or token (Bearer)"
                       if authorization else
                       "Unauthenticated: this call needs credentials (kaggle.json, KAGGLE_USERNAME/KAGGLE_KEY)")
    result = handler(Call(user, payload, base))
    if isinstance(result, Redirect):
        return Response(b"", 302, {"Location": result.url}, media_type="text/plain")
    if isinstance(result, FileBody):
        return Response(result.data, 200, {"Content-Disposition": f'attachment; filename="{result.name}"',
                                           "Last-Modified": formatdate(usegmt=True)}, media_type=result.content_type)
    return json_response(200, result)


# --- signed download links ------------------------------------------------------------------------------


@guarded
async def blob(request: Request) -> Response:
    # The link was signed over the path as sent (quoted), so the raw path is what is checked and parsed.
    path = (request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1")
    match = BLOB.match(path)
    if not match:
        raise ApiError(404, "Not found")
    query = request.query_params
    file = await run_in_threadpool(_blob_file, arena_of(request), path, match, query.get("expires", ""),
                                   query.get("user", ""), query.get("signature", ""))
    stat = file.stat()
    media = "application/zip" if file.suffix == ".zip" else "application/octet-stream"
    return StreamingResponse(_pieces(file), media_type=media, headers={
        "Content-Length": str(stat.st_size), "Last-Modified": formatdate(stat.st_mtime, usegmt=True)})


def _blob_file(arena: Arena, path: str, match: re.Match, expires: str, user: str, signature: str) -> Path:
    user_id = arena.api.verify(path, expires, user, signature)
    if user_id is None:
        raise ApiError(403, "This download link is invalid or has expired: ask the API for a new one")
    kind, slug, name = match.group(1), unquote(match.group(2)), unquote(match.group(3))
    competition = arena.catalog.get(slug)
    if competition is None:
        raise ApiError(404, "Not found")
    file = arena.catalog.bundle(competition) if kind == "bundle" else competition.public_files().get(name)
    if file is None:
        raise ApiError(404, "Not found")
    # Logged before the body is sent: a client that has read every byte must find its download recorded.
    arena.store.log_download(user_id, competition.slug, name)
    return file


def _pieces(file: Path):
    with open(file, "rb") as handle:
        while piece := handle.read(CHUNK):
            yield piece


# --- uploads --------------------------------------------------------------------------------------------


@guarded
async def upload(request: Request) -> Response:
    arena, token = arena_of(request), request.path_params["token"]
    held = await run_in_threadpool(arena.store.upload, token) if UPLOAD.match(token) else None
    if held is None or held["used"] or held["completed_at"]:
        raise ApiError(404, "No such upload (unknown, expired or already used): start a new one")
    if request.headers.get("content-range"):
        raise ApiError(400, "Resumed uploads are not supported: upload the whole file")
    pieces = read_body(request, arena.upload_limit).__aiter__()
    size = 0

    async def next_piece() -> bytes | None:
        try:
            return await pieces.__anext__()
        except StopAsyncIteration:
            return None

    def write(handle) -> None:  # on a worker thread, pulling each piece from the event loop
        nonlocal size
        while (piece := anyio.from_thread.run(next_piece)) is not None:
            handle.write(piece)
            size += len(piece)

    await anyio.to_thread.run_sync(write_with, arena.store.upload_path(token), write, True)
    await run_in_threadpool(arena.store.complete_upload, token, size)
    return json_response(200, {})


# --- the rest -------------------------------------------------------------------------------------------


async def healthz(request: Request) -> Response:
    return Response(b"ok\n", media_type="text/plain")


@guarded
async def elsewhere(request: Request) -> Response:
    """Any other method or API path: what the old server answered."""
    if request.method == "POST":
        raise ApiError(404, f"No such endpoint: {request.url.path}")
    if request.method == "PUT":
        raise ApiError(404, "No such upload (unknown, expired or already used): start a new one")
    if request.method in ("GET", "HEAD"):
        raise ApiError(404, "Not found")
    raise ApiError(405, "Method not allowed")


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)


ROUTES = [
    Route("/v1/{service}/{method}", rpc, methods=["POST"]),
    Route("/api/v1/{service}/{method}", rpc, methods=["POST"]),
    Route("/blobs/{rest:path}", blob, methods=["GET"]),
    Route("/uploads/{token}", upload, methods=["PUT"]),
    Route("/healthz", healthz, methods=["GET"]),
]
