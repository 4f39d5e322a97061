"""Misbehaviour on demand (throttling, hanging), so tests prove the kaggle client and podium cope with both."""

from __future__ import annotations

import threading


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
