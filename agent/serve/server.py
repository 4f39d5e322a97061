"""The HTTP face of a PredictionService: the standard library's threading server, JSON in and out.

Routes: `GET /health`, `POST /predict`; anything else 404, a known path with another method 405. Every error
is a JSON body `{"error": ..., "details": [...], "fix": ...}`; bad input is always a 4xx, and a 500 means a
bug in podium (logged with its traceback). One request per connection (HTTP/1.0 semantics): no idle
keep-alive connection can hold a shutdown back. A client silent for `serve.timeout` seconds is dropped, and
one whose request has not fully arrived after `serve.request_deadline` seconds (dripping bytes, which a
per-read timeout never catches) gets a 408 and is cut off.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from agent.errors import InputError
from agent.serve.payload import RequestError
from agent.serve.service import PredictionService

log = logging.getLogger("podium.serve")
ROUTES = {"/health": "GET", "/predict": "POST"}
JSON_TYPES = ("application/json",)
DRAIN_FACTOR = 16          # an oversize body up to 16x the limit is read and dropped, so the client sees the 413
DRAIN_CAP = 64 << 20
CHUNK = 1 << 16
WATCH_INTERVAL = 0.25  # seconds between two looks of the deadline watchdog


class PredictionServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer holding the service; closing it waits for requests in flight."""

    daemon_threads = False      # server_close() joins the request threads: in-flight requests finish
    block_on_close = True
    request_queue_size = 128    # bursts of concurrent clients queue instead of being refused

    def __init__(self, address: tuple[str, int], service: PredictionService):
        self.service = service
        self.arriving: dict[PredictionHandler, float] = {}  # requests still being read -> their deadline
        self._watching = threading.Lock()
        self._closed = threading.Event()
        super().__init__(address, PredictionHandler)
        threading.Thread(target=self._watch, name="serve-deadlines", daemon=True).start()

    def server_close(self) -> None:
        self._closed.set()
        super().server_close()

    def expect(self, handler: PredictionHandler) -> None:
        with self._watching:
            self.arriving[handler] = time.monotonic() + self.service.settings.request_deadline

    def arrived(self, handler: PredictionHandler) -> None:
        with self._watching:
            self.arriving.pop(handler, None)

    def _watch(self) -> None:
        """Cut off every request past its deadline: its reads end, and it answers 408."""
        while not self._closed.wait(WATCH_INTERVAL):
            now = time.monotonic()
            with self._watching:
                late = [h for h, deadline in self.arriving.items() if deadline < now]
                for handler in late:
                    self.arriving.pop(handler)
            for handler in late:
                handler.expire()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class PredictionHandler(BaseHTTPRequestHandler):
    server: PredictionServer
    server_version = "podium-serve/1"

    expired = False

    def setup(self) -> None:
        self.timeout = self.server.service.settings.timeout  # socket timeout: reads from a silent client end
        super().setup()
        self.server.expect(self)

    def finish(self) -> None:
        self.server.arrived(self)
        super().finish()

    def _late_message(self) -> str:
        return f"The request did not arrive within {self.server.service.settings.request_deadline:g} seconds"

    def expire(self) -> None:
        """Past the whole-request deadline: end the reads (the answer can still be written)."""
        self.expired = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RD)

    # --- routes ----------------------------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - the standard library's naming
        if self._route("GET") == "/health":
            self._send(200, self.server.service.health())

    def do_POST(self) -> None:  # noqa: N802
        if self._route("POST") == "/predict":
            self._predict()

    def do_PUT(self) -> None:  # noqa: N802
        self._route("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._route("DELETE")

    def do_PATCH(self) -> None:  # noqa: N802
        self._route("PATCH")

    def do_OPTIONS(self) -> None:  # noqa: N802
        self._route("OPTIONS")

    def do_HEAD(self) -> None:  # noqa: N802 - GET's headers without the body
        if self._route("HEAD") == "/health":
            self._send(200, self.server.service.health())

    def _route(self, method: str) -> str | None:
        """The path when `method` is allowed on it; otherwise answer 404 or 405 and return None."""
        path = urlsplit(self.path).path.rstrip("/") or "/"
        allowed = ROUTES.get(path)
        if allowed is None:
            self._drain_small_body()
            self._send(404, {"error": f"No such endpoint: {path}", "details": [],
                             "fix": "use GET /health or POST /predict"})
            return None
        if method != allowed and not (method == "HEAD" and allowed == "GET"):
            self._drain_small_body()
            self._send(405, {"error": f"{method} is not allowed on {path}", "details": [],
                             "fix": f"use {allowed} {path}"}, headers={"Allow": allowed})
            return None
        return path

    # --- /predict --------------------------------------------------------------------------------------------

    def _predict(self) -> None:
        try:
            body = self._read_body()
            self._check_content_type()
            response = self.server.service.predict_body(body)
        except RequestError as error:
            log.info("%s %s -> %d: %s", self.command, self.path, error.status, error.message)
            self._send(error.status, error.body())
        except InputError as error:  # the model's own checks: still the client's input
            self._send(422, {"error": error.what, "details": [error.where] if error.where else [],
                             "fix": error.fix})
        except Exception:  # noqa: BLE001 - a bug in podium, never the client's input
            log.exception("Prediction failed")
            self._send(500, {"error": "Internal error while predicting (a bug in podium; the server log has the "
                                      "traceback)", "details": []})
        else:
            self._send(200, response)

    def _read_body(self) -> bytes:
        if self.expired:  # the headers were cut off by the deadline
            raise RequestError(408, self._late_message(), fix="send the whole request promptly")
        if self.headers.get("Transfer-Encoding"):
            raise RequestError(411, "Chunked request bodies are not accepted",
                               fix="send the body with a Content-Length header")
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            raise RequestError(411, "The request has no Content-Length header",
                               fix="send the JSON body with a Content-Length header")
        try:
            length = int(length_text.strip())
        except ValueError:
            length = -1
        if length < 0:
            raise RequestError(400, f"Content-Length {length_text.strip()[:40]!r} is not a byte count",
                               fix="send the body's size in bytes as Content-Length")
        limit = self.server.service.settings.max_body_bytes
        if length > limit:
            self._drain(length)
            raise RequestError(413, f"The request body has {length:,} bytes; this server accepts at most "
                               f"{limit:,}", fix="send fewer rows per request (serve.max_body_bytes)")
        try:
            body = self.rfile.read(length)
        except TimeoutError:
            raise RequestError(408, "The request body did not arrive in time",
                               fix="send the whole body promptly") from None
        self.server.arrived(self)
        if self.expired:
            raise RequestError(408, self._late_message(), fix="send the whole request promptly")
        if len(body) < length:
            raise RequestError(400, f"The body ended after {len(body)} of {length} bytes (Content-Length)",
                               fix="send exactly Content-Length bytes")
        return body

    def _check_content_type(self) -> None:
        value = self.headers.get("Content-Type")
        media = (value or "").split(";")[0].strip().lower()
        if media not in JSON_TYPES:
            raise RequestError(415, f"Content-Type must be application/json, not {value!r}" if value else
                               "The request has no Content-Type; it must be application/json",
                               fix="send the header Content-Type: application/json")

    def _drain(self, length: int) -> None:
        """Read and drop an oversize body (up to a cap), so the client receives the 413 rather than a reset."""
        self.close_connection = True
        left = min(length, max(DRAIN_FACTOR * self.server.service.settings.max_body_bytes, CHUNK), DRAIN_CAP)
        try:
            while left > 0:
                chunk = self.rfile.read(min(CHUNK, left))
                if not chunk:
                    break
                left -= len(chunk)
        except (TimeoutError, OSError):
            pass

    def _drain_small_body(self) -> None:
        length = self.headers.get("Content-Length", "0") if self.headers else "0"
        if length.strip().isdigit() and 0 < int(length) <= self.server.service.settings.max_body_bytes:
            self._drain(int(length))

    # --- responses -------------------------------------------------------------------------------------------

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD" and status >= 200 and status not in (204, 304):
                self.wfile.write(data)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            log.info("The client went away before the response was sent")
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own errors (malformed request line, unknown method) as JSON too."""
        phrase = HTTPStatus(code).phrase if code in HTTPStatus._value2member_map_ else "Error"
        self.close_connection = True
        fix = "use GET /health or POST /predict with a JSON body"
        if self.expired:  # the request line was cut off by the deadline: answer as HTTP/1.0, whatever arrived
            code, message, explain, fix = 408, self._late_message(), None, "send the whole request promptly"
            self.request_version = "HTTP/1.0"
        self._send(code, {"error": message or phrase, "details": [explain] if explain else [], "fix": fix})

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the standard library's signature
        log.debug("%s %s", self.address_string(), format % args)
