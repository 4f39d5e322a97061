"""Bounded retries with exponential backoff and jitter, for rate limits and transient server trouble."""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger("podium.kaggle")
T = TypeVar("T")
TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
MAX_CONNECTION_RETRIES = 2


def status_of(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def retry_after(exc: BaseException) -> float | None:
    """The server's Retry-After (seconds or an HTTP date), if it sent one."""
    response = getattr(exc, "response", None)
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def is_retryable(exc: BaseException, idempotent: bool) -> bool:
    """429 always (nothing was done); server errors and refused connections only if repeating is harmless."""
    import requests

    status = status_of(exc)
    if status == 429:
        return True
    if not idempotent:
        return False
    if status in TRANSIENT_STATUS:
        return True
    unrecoverable = (requests.ReadTimeout, requests.exceptions.SSLError)
    return isinstance(exc, requests.ConnectionError) and not isinstance(exc, unrecoverable)


def backoff(attempt: int, base: float, cap: float, rng: Callable[[], float] = random.random) -> float:
    """base * 2^attempt, scaled by a random factor in [0.5, 1.5), never above `cap`."""
    return min(cap, base * (2 ** attempt) * (0.5 + rng()))


def with_retries(call: Callable[[], T], *, what: str, retries: int, base: float, cap: float,
                 idempotent: bool = True, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run `call`, retrying retryable failures up to `retries` times; the last failure propagates."""
    refused = 0
    for attempt in range(retries + 1):
        try:
            return call()
        except Exception as exc:
            if attempt >= retries or not is_retryable(exc, idempotent):
                raise
            if status_of(exc) is None:  # no answer at all: a blip is over fast, a wrong address never is
                refused += 1
                if refused > MAX_CONNECTION_RETRIES:
                    raise
            delay = backoff(attempt, base, cap)
            hinted = retry_after(exc) if status_of(exc) == 429 else None
            if hinted is not None:
                delay = min(cap, hinted)
            log.warning("%s failed (%s); retry %d of %d in %.1f s", what, _short(exc), attempt + 1, retries, delay)
            sleep(delay)
    raise AssertionError("unreachable")


def _short(exc: BaseException) -> str:
    status = status_of(exc)
    return f"HTTP {status}" if status else type(exc).__name__
