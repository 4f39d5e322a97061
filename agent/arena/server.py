"""The arena's HTTP server: the kaggle client's protocol over the standard library's ThreadingHTTPServer.

Routes: `POST /v1/<service>/<Method>` and `/api/v1/...` (RPCs, see api.py), `GET /blobs/...` (signed,
expiring download links the RPCs redirect to), `PUT /uploads/<token>` (submission uploads), and plain
pages under `/competitions/<slug>` (rules). Binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import queue
import re
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from agent.arena.api import ApiError, ArenaApi, Call, FileBody, Redirect
from agent.arena.catalog import Catalog
from agent.arena.grading import GradingError, grade_file
from agent.arena.pages import page_for
from agent.arena.store import Store
from agent.atomic import write_with

log = logging.getLogger("podium.arena")
RPC = re.compile(r"^/(?:api/)?v1/([A-Za-z.]+)/([A-Za-z]+)$")
BLOB = re.compile(r"^/blobs/(bundle|file)/([^/]+)/([^/]+)$")
UPLOAD = re.compile(r"^/uploads/([A-Za-z0-9_-]{16,64})$")
HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$")
MAX_JSON_BYTES = 1 << 20
DRAIN_FACTOR = 64  # a body over the limit is read at most this many times the limit before the cut-off
LINE_LIMIT = 1 << 10  # a chunk-size or trailer line
MAX_TRAILERS = 64
DEFAULT_UPLOAD_LIMIT = 100 << 20
CHUNK = 1 << 16


class Faults:
    """Misbehaviour on demand, to prove clients cope: answer 429 to the next N calls, or hang until released."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._throttled = 0
        self.retry_after: str | None = None
        self._released = threading.Event()
        self._released.set()

    def throttle(self, times: int, retry_after: str | None = None) -> None:
        with self._lock:
            self._throttled, self.retry_after = times, retry_after

    def take_throttle(self) -> bool:
        with self._lock:
            if self._throttled <= 0:
                return False
            self._throttled -= 1
            return True

    def hang(self) -> None:
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def wait(self) -> None:
        self._released.wait()


class ArenaServer:
    """A running (or ready to run) arena over one competitions folder."""

    def __init__(self, competitions: Path, host: str = "127.0.0.1", port: int = 0,
                 upload_limit: int = DEFAULT_UPLOAD_LIMIT):
        self.root = Path(competitions).resolve()
        self.store = Store(self.root)
        self.catalog = Catalog(self.root, self.store.state / "blobs")
        self.upload_limit = upload_limit
        self.faults = Faults()
        self._queue: queue.Queue[int | None] = queue.Queue()
        self.api = ArenaApi(self.store, self.catalog, self._queue.put)
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.arena = self
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ArenaServer:
        """Serve on background threads (tests, scripts); `stop()` ends them."""
        self._start_grader()
        thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                  name="arena-http", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def serve_forever(self) -> None:
        """Serve on this thread until interrupted (the CLI)."""
        self._start_grader()
        try:
            self.httpd.serve_forever()
        finally:
            self.stop()

    def stop(self) -> None:
        self.faults.release()
        if any(t.name == "arena-http" for t in self._threads):
            self.httpd.shutdown()  # only from another thread: serve_forever's own thread would deadlock
        self.httpd.server_close()
        self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()

    def __enter__(self) -> ArenaServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _start_grader(self) -> None:
        for ref in self.store.pending():  # submissions left PENDING by a previous run of the server
            self._queue.put(ref)
        thread = threading.Thread(target=self._grade_forever, name="arena-grader", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _grade_forever(self) -> None:
        while (ref := self._queue.get()) is not None:
            try:
                self.grade(ref)
            except Exception:  # noqa: BLE001 - one broken submission must not stop the grader
                log.exception("Grading submission %s failed", ref)
                self.store.record_score(ref, None, None, "The arena failed to grade this file (see its log)")

    def grade(self, ref: int) -> None:
        row = self.store.submission(ref)
        competition = self.catalog.get(row["slug"]) if row else None
        if competition is None:
            return
        try:
            grade = grade_file(competition, self.store.submission_path(ref))
        except GradingError as error:
            self.store.record_score(ref, None, None, str(error))
            return
        self.store.record_score(ref, grade.public, grade.private, None)
        log.info("Submission %s of %s scored %s (public)", ref, row["user"], grade.public)


class _Handler(BaseHTTPRequestHandler):
    server_version = "podium-arena/1"
    protocol_version = "HTTP/1.1"
    timeout = 120  # seconds a client may stay silent mid-request

    @property
    def arena(self) -> ArenaServer:
        return self.server.arena

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        log.debug("%s %s", self.address_string(), format % args)

    def do_POST(self) -> None:
        self._guarded(self._rpc)

    def do_GET(self) -> None:
        self._guarded(self._get)

    def do_PUT(self) -> None:
        self._guarded(self._put)

    def do_DELETE(self) -> None:
        self._guarded(lambda: self._error(405, "Method not allowed"))

    # --- plumbing ---------------------------------------------------------------------------------

    def _guarded(self, handler) -> None:
        self.close_connection = True
        try:
            handler()
        except ApiError as error:
            self._error(error.status, error.message)
        except (ValueError, TypeError, KeyError) as error:
            self._error(400, f"Bad request: {error}")
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception:  # noqa: BLE001 - a server answers 500 rather than dropping the connection
            log.exception("Request %s %s failed", self.command, self.path)
            self._error(500, "Internal error in the arena")

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8", headers)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        if status == 401:
            headers = {**(headers or {}), "WWW-Authenticate": 'Basic realm="podium arena"'}
        self._json(status, {"code": status, "message": message}, headers)

    def _base_url(self) -> str:
        host = self.headers.get("Host", "")
        return f"http://{host}" if HOST.match(host) else self.arena.url

    def _length(self) -> int | None:
        value = self.headers.get("Content-Length")
        if value is None:
            return None
        if not value.isdigit():
            raise ApiError(400, "Content-Length is not a number")
        return int(value)

    def _body(self, limit: int):
        """Yield the request body in pieces (Content-Length or chunked); past `limit`, answer 413.

        A body a little over the limit is drained first, so the client can read the answer; one past
        DRAIN_FACTOR times the limit is cut off there, whether its length was declared or chunked.
        """
        length = self._length()
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        cutoff = DRAIN_FACTOR * limit
        received = 0

        def read(size: int):
            while size > 0:
                if not (piece := self.rfile.read(min(CHUNK, size))):
                    raise ApiError(400, f"The request body ended {size:,} bytes before its declared length")
                size -= len(piece)
                yield piece

        def pieces():
            if chunked:
                while (size := int(self.rfile.readline(LINE_LIMIT).split(b";")[0].strip() or b"0", 16)) > 0:
                    yield from read(size)
                    self.rfile.readline(LINE_LIMIT)
                for _ in range(MAX_TRAILERS):
                    if self.rfile.readline(LINE_LIMIT) in (b"\r\n", b"\n", b""):
                        break
            else:
                yield from read(length or 0)

        if length is not None and length > cutoff:
            raise ApiError(413, f"The request is {length:,} bytes; the limit is {limit:,}")
        for piece in pieces():
            received += len(piece)
            if received <= limit:
                yield piece
            elif received > cutoff:
                break
        if received > limit:
            raise ApiError(413, f"The request is {'over ' if received > cutoff else ''}{received:,} bytes; "
                                f"the limit is {limit:,}")

    def _user(self):
        header = self.headers.get("Authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return self.arena.store.authenticate(None, credentials.strip())
        if scheme.lower() == "basic":
            try:
                name, _, key = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            return self.arena.store.authenticate(name, key) if key else None
        return None

    # --- routes -----------------------------------------------------------------------------------

    def _rpc(self) -> None:
        match = RPC.match(urlsplit(self.path).path)
        if not match:
            raise ApiError(404, f"No such endpoint: {urlsplit(self.path).path}")
        body = b"".join(self._body(MAX_JSON_BYTES))
        faults = self.arena.faults
        faults.wait()
        if faults.take_throttle():
            headers = {"Retry-After": faults.retry_after} if faults.retry_after else None
            return self._error(429, "Too many requests: slow down and retry later", headers)
        handler = self.arena.api.handlers.get(match.groups())
        if handler is None:
            raise ApiError(404, f"The arena does not implement {match.group(1)}/{match.group(2)}")
        try:
            payload = json.loads(body or b"{}")
        except RecursionError:
            raise ApiError(400, "The request body nests JSON too deeply") from None
        if not isinstance(payload, dict):
            raise ApiError(400, "The request body must be a JSON object")
        user = self._user()
        if user is None and match.group(2) != "IntrospectToken":
            raise ApiError(401, "Unauthenticated: send a valid username and key (Basic) or token (Bearer)"
                           if self.headers.get("Authorization") else
                           "Unauthenticated: this call needs credentials (kaggle.json, KAGGLE_USERNAME/KAGGLE_KEY)")
        result = handler(Call(user, payload, self._base_url()))
        if isinstance(result, Redirect):
            self._send(302, b"", "text/plain", {"Location": result.url})
        elif isinstance(result, FileBody):
            self._send(200, result.data, result.content_type,
                       {"Content-Disposition": f'attachment; filename="{result.name}"',
                        "Last-Modified": formatdate(usegmt=True)})
        else:
            self._json(200, result)

    def _get(self) -> None:
        parts = urlsplit(self.path)
        match = BLOB.match(parts.path)
        if match:
            return self._blob(parts.path, match, parse_qs(parts.query))
        if parts.path == "/healthz":
            return self._send(200, b"ok\n", "text/plain")
        text = page_for(self.arena, unquote(parts.path), self._base_url())
        if text is None:
            raise ApiError(404, "Not found")
        self._send(200, text.encode(), "text/plain; charset=utf-8")

    def _blob(self, path: str, match: re.Match, query: dict[str, list[str]]) -> None:
        def first(name: str) -> str:
            return (query.get(name) or [""])[0]

        user_id = self.arena.api.verify(path, first("expires"), first("user"), first("signature"))
        if user_id is None:
            raise ApiError(403, "This download link is invalid or has expired: ask the API for a new one")
        kind, slug, name = match.group(1), unquote(match.group(2)), unquote(match.group(3))
        competition = self.arena.catalog.get(slug)
        if competition is None:
            raise ApiError(404, "Not found")
        file = self.arena.catalog.bundle(competition) if kind == "bundle" else competition.public_files().get(name)
        if file is None:
            raise ApiError(404, "Not found")
        size = file.stat().st_size
        # Logged before the body is sent: a client that has read every byte must find its download recorded.
        self.arena.store.log_download(user_id, competition.slug, name)
        self.send_response(200)
        self.send_header("Content-Type", "application/zip" if file.suffix == ".zip" else "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.send_header("Last-Modified", formatdate(file.stat().st_mtime, usegmt=True))
        self.send_header("Connection", "close")
        self.end_headers()
        with open(file, "rb") as handle:
            while piece := handle.read(CHUNK):
                self.wfile.write(piece)

    def _put(self) -> None:
        match = UPLOAD.match(urlsplit(self.path).path)
        upload = self.arena.store.upload(match.group(1)) if match else None
        if upload is None or upload["used"] or upload["completed_at"]:
            raise ApiError(404, "No such upload (unknown, expired or already used): start a new one")
        if self.headers.get("Content-Range"):
            raise ApiError(400, "Resumed uploads are not supported: upload the whole file")
        token, limit = match.group(1), self.arena.upload_limit
        target = self.arena.store.upload_path(token)
        size = 0

        def write(handle) -> None:
            nonlocal size
            for piece in self._body(limit):
                handle.write(piece)
                size += len(piece)

        write_with(target, write, binary=True)
        self.arena.store.complete_upload(token, size)
        self._json(200, {})

