"""What a started server tells its caller (`Listening`) and how a signal stops it (`Stopper`).

Shared by the local server (command.py) and Ray Serve (ray_serve.py), which both depend on this module
and never on each other's.
"""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass
from typing import Any

from agent.webserver import WebServer

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True)
class Listening:
    """What `ready` is told once the server answers: where, which model, how many processes."""

    url: str
    model: str
    workers: int = 1
    unit: str = "workers"  # or "replicas" (Ray Serve)


class Stopper:
    """SIGINT/SIGTERM (or `stop()` from another thread) ask the server to stop; a second signal forces it."""

    def __init__(self) -> None:
        self.stopping = False
        self.signal: int | None = None
        self.server: WebServer | None = None
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
        if self.server is not None:
            self.server.request_stop()

    def _handle(self, number: int, _frame) -> None:
        self.signal = number
        self.stop()
