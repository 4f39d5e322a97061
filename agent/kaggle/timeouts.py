"""Timeouts for the kaggle client's HTTP requests: it passes none, so a hanging server would hang podium forever.

`default_timeouts(connect, read)` makes every `requests` call on this thread that passes no timeout of
its own use (connect, read) for the block's duration. It works by wrapping `HTTPAdapter.send` once; the
wrapper does nothing on threads outside such a block, so other users of `requests` are untouched.
The read timeout bounds the silence between bytes, not a whole download: slow, steady transfers finish.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_state = threading.local()
_install_lock = threading.Lock()


def _install() -> None:
    from requests.adapters import HTTPAdapter

    with _install_lock:
        if getattr(HTTPAdapter.send, "_podium_timeouts", False):
            return
        original = HTTPAdapter.send

        @functools.wraps(original)
        def send(self, request, *args, **kwargs):
            default = getattr(_state, "timeout", None)
            if default is not None and not args and kwargs.get("timeout") is None:
                kwargs["timeout"] = default
            return original(self, request, *args, **kwargs)

        send._podium_timeouts = True
        HTTPAdapter.send = send


def current() -> tuple[float, float] | None:
    return getattr(_state, "timeout", None)


@contextmanager
def default_timeouts(connect: float, read: float) -> Iterator[None]:
    """Within the block, requests on this thread without a timeout get (connect, read) seconds."""
    _install()
    previous = getattr(_state, "timeout", None)
    _state.timeout = (float(connect), float(read))
    try:
        yield
    finally:
        _state.timeout = previous
