"""Run an ASGI app on uvicorn: bound at once (port 0 picks a free one), on a thread or in the foreground.

Both of podium's HTTP servers (`podium serve`, the arena) use it. Beyond uvicorn's defaults it adds one
guard: a whole-request deadline. uvicorn times out idle keep-alive connections but not a client that drips a
byte a second through its request line, headers or body; here every request must arrive whole within
`request_deadline` seconds of its first byte (or of the connection), or it is answered 408 and cut off.
httptools buffers a header line whole however long it grows and uvicorn sets no bound (its
`h11_max_incomplete_event_size` is for the h11 protocol only), so the request line and headers are bounded
here: at most MAX_HEAD_BYTES bytes and MAX_HEADERS headers, or 431 and cut off, before the app sees anything.
A request the HTTP parser refuses gets the same JSON error body as the apps' own errors, not plain text.
Every such refusal is reported to the app (its `refused(status, path)`, if it has one: `podium serve` counts
them in /metrics); one the app was already answering is marked in its scope under REFUSED instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("podium.web")
START_TIMEOUT = 30.0
MAX_HEAD_BYTES = 64 * 1024  # the request line and headers (nginx 4 x 8 KiB, Node.js 16 KiB): a browser's fit
MAX_HEADERS = 100
REFUSED = "podium.refused"  # scope key: the status the server answered instead of the app
HEAD_FIX = "send a request line and headers of at most 64 KiB, and at most 100 headers"


class _HeadTooLarge(Exception):
    """Raised inside a parser callback to stop parsing a request head over the limits."""


def raw_error(status: int, message: str, fix: str) -> bytes:
    """A whole HTTP response with podium's JSON error body, for answers given before any app sees the request."""
    body = json.dumps({"error": message, "details": [], "fix": fix}).encode()
    return (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n".encode()
            + b"content-type: application/json; charset=utf-8\r\ncontent-length: " + str(len(body)).encode()
            + b"\r\nconnection: close\r\n\r\n" + body)


class PodiumProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the whole-request deadline, and JSON bodies for malformed requests.

    Its settings ride on uvicorn's Config (`podium_deadline`, `podium_fix`, set by `uvicorn_config`), so the
    Config still pickles into worker processes."""

    _timer: asyncio.TimerHandle | None = None
    _in_head = True        # between requests, or reading one's request line and headers
    _head_bytes = 0        # bytes received while the head was incomplete (what httptools may be buffering)
    _head_seen = 0         # bytes of the head the parser handed over (URL, header names and values)
    _headers = 0
    _completed = False     # a request completed during the current feed

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        self._completed = False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserInvalidMethodError:
            self._refuse(501, "Unsupported HTTP method", self.config.podium_fix)
            return
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, _HeadTooLarge):
                self._refuse(431, str(exc.__context__), HEAD_FIX)
            else:
                self._refuse(400, f"The request is not valid HTTP: {exc}", self.config.podium_fix)
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self._in_head and not self._completed:  # a chunk that ended a request may hold its body: not counted
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(431, f"The request line and headers are larger than {MAX_HEAD_BYTES:,} bytes", HEAD_FIX)

    def on_url(self, url: bytes) -> None:
        self._grow(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers += 1
        if self._headers > MAX_HEADERS:
            raise _HeadTooLarge(f"The request has more than {MAX_HEADERS} headers")
        self._grow(len(name) + len(value))
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def _grow(self, size: int) -> None:
        self._head_seen += size
        if self._head_seen > MAX_HEAD_BYTES:
            raise _HeadTooLarge(f"The request line and headers are larger than {MAX_HEAD_BYTES:,} bytes")

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes, self._head_seen, self._headers = True, 0, 0, 0
        if self._timer is None:
            self._arm()

    def on_message_complete(self) -> None:
        self._disarm()
        self._in_head, self._completed, self._head_bytes = True, True, 0
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._timer = self.loop.call_later(self.config.podium_deadline, self._expire)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        self._refuse(408, f"The request did not arrive within {self.config.podium_deadline:g} seconds",
                     "send the whole request promptly")

    def _refuse(self, status: int, message: str, fix: str) -> None:
        """Answer before (or instead of) the app, then close; an answer the app already began is left alone.
        The refusal is reported to the app, or marked in the scope of the request it is answering."""
        self._disarm()
        if self.transport.is_closing():
            return
        answering = self.cycle is not None and not self.cycle.response_complete  # the app has this request
        if not answering or not self.cycle.response_started:
            self.transport.write(raw_error(status, message, fix))
        if answering:
            if not self.cycle.response_started:
                self.cycle.scope[REFUSED] = status  # type: ignore[typeddict-unknown-key]
            self.cycle.disconnected = True  # the app's reads end and its own answer, if it comes, is dropped
            self.cycle.message_event.set()
        else:
            self._report(status)
        self.transport.close()

    def _report(self, status: int) -> None:
        """Tell the app (through uvicorn's middleware) of a request it never saw; an app's error is logged."""
        app = self.app
        while app is not None and not hasattr(app, "refused"):
            app = getattr(app, "app", None)
        if app is not None:
            try:
                app.refused(status)
            except Exception:  # noqa: BLE001 - a broken count must not keep the connection open
                log.exception("Counting a refused request failed")


def bind(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A listening socket; OSError (busy port, unknown address) for the caller to explain."""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:  # a host name
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    sock = socket.create_server((host, port), family=family, backlog=backlog)
    sock.set_inheritable(True)  # worker processes share it
    return sock


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def uvicorn_config(app: Any, *, request_deadline: float, fix: str, timeout_keep_alive: float = 5,
                   graceful_timeout: float | None = None, protocol: type[PodiumProtocol] = PodiumProtocol,
                   **options: Any) -> uvicorn.Config:
    """The settings both servers share; `fix` tells a client what to send instead of a malformed request;
    `protocol` may extend PodiumProtocol; `options` go to uvicorn.Config as they are (workers, factory, ...)."""
    config = uvicorn.Config(app, http=protocol, lifespan="off", access_log=False, log_config=None,
                            timeout_keep_alive=int(max(1, timeout_keep_alive)),
                            timeout_graceful_shutdown=int(graceful_timeout) if graceful_timeout else None,
                            server_header=False, **options)
    config.podium_deadline, config.podium_fix = request_deadline, fix
    return config


class _Server(uvicorn.Server):
    """uvicorn's server without its signal handlers: whoever runs it owns the signals (and the exit code)."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


class WebServer:
    """One uvicorn server over an already bound socket."""

    def __init__(self, config: uvicorn.Config, sock: socket.socket):
        self.config = config
        self.socket = sock
        self.server = _Server(config)
        self.server_address: tuple[str, int] = sock.getsockname()[:2]
        self._thread: threading.Thread | None = None

    @classmethod
    def bound(cls, app: Any, host: str, port: int, **settings: Any) -> WebServer:
        return cls(uvicorn_config(app, **settings), bind(host, port))

    @property
    def url(self) -> str:
        host, port = self.server_address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> WebServer:
        """Serve on a background thread (tests, the arena's scripts); `stop()` ends it."""
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]},
                                        name="podium-web", daemon=True)
        self._thread.start()
        self.wait_started()
        return self

    def wait_started(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if self._thread is not None and not self._thread.is_alive():
                raise RuntimeError("the web server stopped while starting (see its log)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the web server did not start within {timeout:g} s")
            time.sleep(0.01)

    def run(self, ready: Callable[[WebServer], None] | None = None) -> None:
        """Serve in this thread until `stop()` (from a signal handler or another thread)."""
        if ready is not None:
            threading.Thread(target=self._when_started, args=(ready,), daemon=True).start()
        self.server.run(sockets=[self.socket])

    def _when_started(self, ready: Callable[[WebServer], None]) -> None:
        with contextlib.suppress(RuntimeError):
            self.wait_started()
            ready(self)

    def request_stop(self) -> None:
        """Stop accepting and let requests in flight finish; safe in a signal handler (a second call forces)."""
        if self.server.should_exit:
            self.server.force_exit = True
        self.server.should_exit = True

    def stop(self, timeout: float = 30) -> None:
        """Stop accepting, let requests in flight finish, return when the server is down."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with contextlib.suppress(OSError):
            self.socket.close()
