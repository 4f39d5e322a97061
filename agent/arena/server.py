"""The arena's HTTP server: the kaggle client's protocol and the pages for people, one Starlette app on uvicorn.

Routes: `POST /v1/<service>/<Method>` and `/api/v1/...` (RPCs, see api.py), `GET /blobs/...` (signed,
expiring download links the RPCs redirect to), `PUT /uploads/<token>` (submission uploads), `/healthz`
(routes.py); HTML pages under `/` and `/competitions/<slug>`, signing in and the host's private leaderboard
(site.py). It runs on agent/webserver.py's uvicorn (bound at once, on a thread or in the foreground) with a
whole-request deadline; binds 127.0.0.1 unless told otherwise. Submissions are graded on a thread of their own.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
from pathlib import Path

from starlette.applications import Starlette

from agent.arena import routes, site
from agent.arena.api import ArenaApi
from agent.arena.bodies import DRAIN_FACTOR, MAX_JSON_BYTES, REQUEST_DEADLINE, ArenaProtocol
from agent.arena.catalog import Catalog
from agent.arena.faults import Faults
from agent.arena.grading import GradingError, grade_file
from agent.arena.store import Store
from agent.webserver import WebServer, bind, uvicorn_config

__all__ = ["DEFAULT_UPLOAD_LIMIT", "DRAIN_FACTOR", "MAX_JSON_BYTES", "ArenaServer", "Faults", "build_app"]
log = logging.getLogger("podium.arena")
DEFAULT_UPLOAD_LIMIT = 100 << 20
KEEP_ALIVE_SECONDS = 5
GRACEFUL_SECONDS = 10  # requests in flight at `stop()` get this long to finish
PARSER_FIX = "send a well-formed HTTP/1.1 request, as the kaggle client does"


def build_app(arena: ArenaServer) -> Starlette:
    """The ASGI app: the protocol's routes, the pages, and a fallback that answers anything else."""
    app = Starlette(routes=[*routes.ROUTES, *site.ROUTES, site.FALLBACK])
    app.state.arena = arena
    return app


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
        # ArenaProtocol: webserver's protocol, answering clients that half-close mid-request
        config = uvicorn_config(build_app(self), request_deadline=REQUEST_DEADLINE, fix=PARSER_FIX,
                                timeout_keep_alive=KEEP_ALIVE_SECONDS, graceful_timeout=GRACEFUL_SECONDS,
                                protocol=ArenaProtocol)
        self.web = WebServer(config, bind(host, port))
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return self.web.url

    def start(self) -> ArenaServer:
        """Serve on a background thread (tests, scripts); `stop()` ends it."""
        self._start_grader()
        self.web.start()
        return self

    def serve_forever(self) -> None:
        """Serve on this thread until SIGINT or SIGTERM (the CLI): requests in flight finish, then it returns."""
        self._start_grader()
        handlers = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                handlers[sig] = signal.signal(sig, lambda *_: self.web.request_stop())
        try:
            self.web.run()
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            self.stop()

    def stop(self) -> None:
        """Stop serving (requests in flight finish), then the grader; safe to call twice or before start()."""
        self.faults.release()
        self.web.stop()
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
