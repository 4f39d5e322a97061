"""`podium serve`: settings from the config and the command line, the server started, stopped on a signal.

SIGINT and SIGTERM stop accepting connections, let the requests in flight finish (each bounded by the
whole-request deadline), close the request log and return: a process manager's stop is a clean exit 0.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.config import ServeSettings, load_settings, read_yaml
from agent.errors import InputError
from agent.services.serve.app import ARTIFACT_ENV, SETTINGS_ENV, freeze_heap
from agent.services.serve.listening import Listening, Stopper
from agent.services.serve.metrics import MULTIPROCESS_ENV, predictions_answered
from agent.services.serve.server import PredictionServer, serve_config
from agent.services.serve.service import PredictionService
from agent.webserver import bind, is_loopback

log = logging.getLogger("podium.serve")


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
        return PredictionServer(service, host, port)
    except OSError as exc:
        raise _cannot_listen(host, port, exc) from exc


def _cannot_listen(host: str, port: int, exc: OSError) -> InputError:
    return InputError(f"Cannot listen on {host}:{port} ({exc.strerror or exc})", where="podium serve",
                      fix="choose another --port (0 picks a free one) or stop whatever holds this one")


def run_server(artifact_dir: str | os.PathLike, settings: ServeSettings,
               ready: Callable[[Listening], None] = lambda listening: None,
               stopper: Stopper | None = None) -> int | None:
    """Serve until SIGINT/SIGTERM (or `stopper.stop()`); return how many requests were answered with predictions
    (None on Ray Serve, whose replicas keep their own counts in their /metrics)."""
    if not is_loopback(settings.host):
        log.warning("Serving on %s: reachable from the network; put authentication and TLS in front", settings.host)
    if settings.ray_address:
        from agent.services.serve.ray_serve import run_on_ray

        run_on_ray(artifact_dir, settings, ready, stopper or Stopper())
        return None
    if settings.workers > 1:
        return run_workers(artifact_dir, settings, ready)
    service = PredictionService.load(artifact_dir, settings)
    try:
        server = make_server(service, settings.host, settings.port)
    except BaseException:
        service.close()
        raise
    stopper = stopper or Stopper()
    stopper.server = server
    stopper.install()
    if threading.current_thread() is threading.main_thread():
        freeze_heap()  # a serving process of its own (not a test or a script embedding the server)
    log.info("Serving %s from %s on %s", service.model.name, artifact_dir, server.url)
    try:
        if not stopper.stopping:
            server.run(lambda s: ready(Listening(s.url, service.model.name)))
    finally:
        log.info("Stopped: no new connections, requests in flight answered")
        service.close()
        stopper.restore()
    return service.requests


def run_workers(artifact_dir: str | os.PathLike, settings: ServeSettings,
                ready: Callable[[Listening], None]) -> int:
    """`--workers N`: N processes share one socket (uvicorn's supervisor restarts any that dies); the main
    thread only. The metrics of all of them add up through a shared folder, read again at the end."""
    from uvicorn.supervisors import Multiprocess

    name = PredictionService.load(artifact_dir, settings.model_copy(update={"request_log": None})).model.name
    try:
        sock = bind(settings.host, settings.port)
    except OSError as exc:
        raise _cannot_listen(settings.host, settings.port, exc) from exc
    metrics_dir = tempfile.mkdtemp(prefix="podium-serve-metrics-")
    environment = {MULTIPROCESS_ENV: metrics_dir, ARTIFACT_ENV: str(Path(artifact_dir).resolve()),
                   SETTINGS_ENV: settings.model_dump_json()}
    saved = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)  # the spawned workers inherit it
    try:
        config = serve_config("agent.services.serve.app:app_from_environment", settings, factory=True,
                              workers=settings.workers)
        url = f"http://{settings.host}:{sock.getsockname()[1]}"
        threading.Thread(target=_announce, args=(url, Listening(url, name, settings.workers), ready),
                         daemon=True).start()
        Multiprocess(config, sockets=[sock]).run()
        return predictions_answered(metrics_dir)
    finally:
        sock.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _announce(url: str, listening: Listening, ready: Callable[[Listening], None], timeout: float = 60) -> None:
    """Tell `ready` once a worker answers /health."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as reply:
                if reply.status == 200:
                    ready(listening)
                    return
        except OSError:
            time.sleep(0.1)
    log.error("No worker answered %s/health within %g s", url, timeout)
