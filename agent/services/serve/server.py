"""A PredictionService on uvicorn: one process, on a thread (tests, scripts) or in the foreground (`podium serve`).

A client silent for `serve.timeout` seconds between requests is dropped (keep-alive), and one whose request has
not fully arrived `serve.request_deadline` seconds after its first byte gets a 408 and is cut off.
"""

from __future__ import annotations

from typing import Any

import uvicorn

from agent.services.serve.app import FIX, build_app
from agent.services.serve.service import PredictionService
from agent.webserver import WebServer, bind, uvicorn_config

# Requests in flight may finish at a stop, each within the whole-request deadline plus its prediction.
GRACE_S = 30


def serve_config(app: Any, service_settings, **options: Any) -> uvicorn.Config:
    """uvicorn's settings for `podium serve`, from the serve: section."""
    return uvicorn_config(app, request_deadline=service_settings.request_deadline, fix=FIX,
                          timeout_keep_alive=service_settings.timeout, graceful_timeout=GRACE_S, **options)


class PredictionServer(WebServer):
    """The server of one PredictionService, bound at construction."""

    def __init__(self, service: PredictionService, host: str, port: int):
        self.service = service
        super().__init__(serve_config(build_app(service), service.settings), bind(host, port))
