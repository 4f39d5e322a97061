"""`podium serve`: settings from the config and the command line, the server started, stopped on a signal.

SIGINT and SIGTERM stop accepting connections, let the requests in flight finish (each bounded by
`serve.timeout`), close the request log and return: a process manager's stop is a clean exit 0.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.config import ServeSettings, load_settings, read_yaml
from agent.errors import InputError
from agent.serve.server import PredictionServer
from agent.serve.service import PredictionService

log = logging.getLogger("podium.serve")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def serve_settings(config_file: str | os.PathLike | None = None, **overrides: Any) -> ServeSettings:
    """configs/default.yaml's `serve:` section, under an optional --config file, with command-line values on top."""
    settings = load_settings(*([(str(config_file), read_yaml(Path(config_file)))] if config_file else [])).serve
    changes = {k: v for k, v in overrides.items() if v is not None}
    try:
        return ServeSettings.model_validate({**settings.model_dump(), **changes})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InputError(f"Invalid serve option(s): {problems}", where="command line",
                         fix="see `podium serve --help` and the serve: section of configs/default.yaml") from exc


def make_server(service: PredictionService, host: str, port: int) -> PredictionServer:
    """Bind the server (port 0: any free port); a busy port or an unknown host is an InputError."""
    try:
        return PredictionServer((host, port), service)
    except OSError as exc:
        raise InputError(f"Cannot listen on {host}:{port} ({exc.strerror or exc})", where="podium serve",
                         fix="choose another --port (0 picks a free one) or stop whatever holds this one") from exc


class Stopper:
    """Signal handlers that only raise a flag; the main thread polls it (nothing else is safe in a handler)."""

    def __init__(self) -> None:
        self.stopping = False
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signals reach the main thread only; callers in other threads call stop() themselves
        for number in STOP_SIGNALS:
            self._previous[number] = signal.signal(number, self._handle)

    def restore(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def stop(self) -> None:
        self.stopping = True

    def _handle(self, number: int, _frame) -> None:
        self.signal = number
        self.stopping = True


def run_server(artifact_dir: str | os.PathLike, settings: ServeSettings,
               ready: Callable[[PredictionServer], None] = lambda server: None,
               stopper: Stopper | None = None) -> int:
    """Serve until SIGINT/SIGTERM (or `stopper.stop()`); return how many requests were answered with predictions."""
    service = PredictionService.load(artifact_dir, settings)
    try:
        server = make_server(service, settings.host, settings.port)
    except BaseException:
        service.close()
        raise
    if not _is_loopback(settings.host):
        log.warning("Serving on %s: reachable from the network; put authentication and TLS in front", settings.host)
    stopper = stopper or Stopper()
    stopper.install()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="podium-serve",
                              daemon=True)
    thread.start()
    log.info("Serving %s from %s on %s", service.model.name, artifact_dir, server.url)
    try:
        ready(server)
        while not stopper.stopping and thread.is_alive():
            time.sleep(0.1)
    finally:
        log.info("Stopping: no new connections; waiting for requests in flight")
        server.shutdown()
        server.server_close()  # joins the request threads
        service.close()
        stopper.restore()
    return service.requests


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
