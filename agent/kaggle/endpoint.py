"""Point the official kaggle client at another server: the one place that touches kagglesdk's endpoint table.

kagglesdk 0.1.38 has no setting for the API's address: `KaggleHttpClient.__init__` reads it from the
module-level dict `kagglesdk.kaggle_env._env_to_endpoint` (through `get_endpoint`). `pointed_at` swaps
every entry of that dict for the block's duration and restores it afterwards. kagglesdk is pinned exactly
in pyproject.toml, and tests/sources/test_kaggle_endpoint.py fails loudly if an upgrade moves the table.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

from agent.errors import InputError, RemoteError

ENV_VAR = "PODIUM_KAGGLE_ENDPOINT"
KAGGLE_WEB = "https://www.kaggle.com"
_LOCK = threading.RLock()
_API_SUFFIX = re.compile(r"(/api)?/v1$")


def resolve_endpoint(given: str | None = None, configured: str | None = None) -> str | None:
    """--kaggle-endpoint, else PODIUM_KAGGLE_ENDPOINT, else the configuration; None means Kaggle itself."""
    value = given or os.environ.get(ENV_VAR) or configured
    return normalise_endpoint(value) if value else None


def normalise_endpoint(url: str) -> str:
    """`http://host:port` (a trailing `/v1` or `/api/v1` is dropped: the client adds it)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"'{url}' is not an http(s) URL", where="--kaggle-endpoint / PODIUM_KAGGLE_ENDPOINT",
                         fix="pass the server's base address, e.g. http://127.0.0.1:8000")
    if parts.username or parts.password:
        raise InputError("The endpoint URL must not carry credentials", where="--kaggle-endpoint",
                         fix="put the username and key in kaggle.json or KAGGLE_USERNAME / KAGGLE_KEY")
    path = _API_SUFFIX.sub("", parts.path.rstrip("/"))
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def web_base(endpoint: str | None) -> str:
    """Where people open a competition's pages (rules, leaderboard) for this endpoint."""
    return endpoint or KAGGLE_WEB


def describe(endpoint: str | None) -> str:
    return endpoint or "Kaggle (api.kaggle.com)"


def _endpoint_table() -> dict:
    """kagglesdk's env -> URL table, or a clear error if this kagglesdk no longer has it."""
    try:
        from kagglesdk import kaggle_env

        table = kaggle_env._env_to_endpoint
        prod = kaggle_env.KaggleEnv.PROD
    except (ImportError, AttributeError) as exc:
        raise RemoteError("This kagglesdk has no kaggle_env._env_to_endpoint, the only way to point the kaggle "
                          "client at another server", fix="install the pinned version: pip install kagglesdk==0.1.38"
                          ) from exc
    if not isinstance(table, dict) or prod not in table:
        raise RemoteError("kagglesdk.kaggle_env._env_to_endpoint changed shape (no KaggleEnv.PROD entry)",
                          fix="install the pinned version: pip install kagglesdk==0.1.38")
    return table


@contextmanager
def pointed_at(endpoint: str | None) -> Iterator[None]:
    """Within the block, every kagglesdk client built talks to `endpoint`; None leaves Kaggle's own address.

    The table is process-wide, so blocks are serialised with a lock; the client reads the table when a
    client object is built, which `KaggleApi` does once per call, inside the block.
    """
    if endpoint is None:
        yield
        return
    with _LOCK:
        table = _endpoint_table()
        saved = dict(table)
        table.update({env: endpoint for env in saved})
        try:
            yield
        finally:
            table.clear()
            table.update(saved)
