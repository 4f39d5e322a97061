"""Who is asking: the kaggle client's Authorization header, or a browser's signed session cookie.

The client sends Basic (`username:key`) or Bearer (a key alone) on every call. A browser signs in once with
the same name and key (or, for the host, the host key) and then carries a cookie: base64url JSON
{user id, name, host, issued} and its HMAC-SHA256 under the arena's own session secret (the `session_key`
setting in the state folder). The cookie is HttpOnly and SameSite=Lax, lasts a week, and holds no key: a host
session is bound to the host key's digest, so a new host key ends it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from starlette.responses import Response

from agent.arena.store import Store, User

COOKIE = "arena_session"
MAX_AGE = 7 * 24 * 3600


def from_authorization(store: Store, header: str) -> User | None:
    """The user a Basic or Bearer Authorization header names, or None."""
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return store.authenticate(None, credentials.strip())
    if scheme.lower() == "basic":
        try:
            name, _, key = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return store.authenticate(name, key) if key else None
    return None


@dataclass(frozen=True)
class Session:
    """A browser's identity: a participant (or nobody), and whether it signed in with the host key."""

    user: User | None = None
    host: bool = False


def _sign(store: Store, payload: bytes) -> str:
    return hmac.new(store.session_key(), payload, hashlib.sha256).hexdigest()


def _host_mark(store: Store) -> str:
    return (store.host_key_digest() or "")[:16]


def encode(store: Store, session: Session) -> str:
    data = {"u": session.user.id if session.user else None, "n": session.user.name if session.user else None,
            "h": _host_mark(store) if session.host else "", "t": int(time.time())}
    payload = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=")
    return f"{payload.decode()}.{_sign(store, payload)}"


def decode(store: Store, cookie: str | None) -> Session:
    """The session a cookie carries; an absent, forged, stale or outdated cookie is nobody."""
    payload, _, signature = (cookie or "").partition(".")
    if not payload or not hmac.compare_digest(_sign(store, payload.encode()), signature):
        return Session()
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        issued, user_id, name, host = int(data["t"]), data["u"], data["n"], str(data["h"])
    except (ValueError, TypeError, KeyError, OverflowError):
        return Session()
    if not 0 <= time.time() - issued <= MAX_AGE:
        return Session()
    user = store.user(name) if isinstance(name, str) else None
    if user is not None and user.id != user_id:  # the name now belongs to someone else
        user = None
    return Session(user=user, host=bool(host) and hmac.compare_digest(host, _host_mark(store)))


def remember(response: Response, store: Store, session: Session) -> Response:
    response.set_cookie(COOKIE, encode(store, session), max_age=MAX_AGE, path="/", httponly=True, samesite="lax")
    return response


def forget(response: Response) -> Response:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
    return response
