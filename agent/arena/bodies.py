"""Request bodies read safely: a byte cap while streaming, a cut-off, and an answer for a body cut short.

uvicorn decodes Content-Length and chunked bodies and hands them over in pieces; `read_body` counts them and
never holds more than the limit. A body over the limit is drained up to DRAIN_FACTOR times the limit, so a
client still sending can read the 413, and cut off there, whether its length was declared or chunked.

uvicorn drops a connection whose client half-closes (shutdown(SHUT_WR)) before its answer, so a body that
ends early would get no answer at all. `arena_protocol` keeps the write side open instead: the body ends
there, the request is marked, and `read_body` answers 400 (a body shorter than declared, a chunk cut off).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request

from agent.arena.api import ApiError
from agent.webserver import PodiumProtocol

MAX_JSON_BYTES = 1 << 20
DRAIN_FACTOR = 64  # a body over the limit is read at most this many times the limit before the cut-off
REQUEST_DEADLINE = 600.0  # seconds for a whole request to arrive: a 100 MB upload at 200 KB/s
CUT_SHORT = "podium.body_cut_short"  # set in the ASGI scope when the client stopped sending mid-body


def declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    if not value.strip().isdigit():
        raise ApiError(400, "Content-Length is not a number")
    return int(value)


async def read_body(request: Request, limit: int) -> AsyncIterator[bytes]:
    """Yield the request body in pieces; past `limit` (declared or counted), ApiError 413."""
    length = declared_length(request)
    cutoff = DRAIN_FACTOR * limit
    if length is not None and length > cutoff:
        raise ApiError(413, f"The request is {length:,} bytes; the limit is {limit:,}")
    received = 0
    async for piece in request.stream():
        received += len(piece)
        if received <= limit:
            if piece:
                yield piece
        elif received > cutoff:
            break
    if received > limit:
        raise ApiError(413, f"The request is {'over ' if received > cutoff else ''}{received:,} bytes; "
                            f"the limit is {limit:,}")
    if request.scope.get(CUT_SHORT):
        if length is not None:
            raise ApiError(400, f"The request body ended {length - received:,} bytes before its declared length")
        raise ApiError(400, f"The chunked request body ended after {received:,} bytes, before its last chunk: "
                            "send the whole body")


async def read_all(request: Request, limit: int) -> bytes:
    return b"".join([piece async for piece in read_body(request, limit)])


class ArenaProtocol(PodiumProtocol):
    """The shared protocol (whole-request deadline, JSON for malformed HTTP), answering clients that half-close."""

    def eof_received(self) -> bool | None:
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            return None  # between requests: close, as uvicorn does
        cycle.keep_alive = False  # answer, then close
        if cycle.more_body:  # the body stopped before its end: let the app say so
            self._disarm()
            cycle.scope[CUT_SHORT] = True
            cycle.more_body = False
            cycle.message_event.set()
        return True  # keep the write side open for the answer
