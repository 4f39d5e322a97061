"""One clear PodiumError for each way a Kaggle-compatible server can fail a request."""

from __future__ import annotations

import os
import re
from pathlib import Path

from agent.errors import PodiumError, RemoteError
from agent.kaggle.endpoint import describe, web_base
from agent.kaggle.retry import status_of


def config_dir() -> Path:
    """Where the kaggle client looks for kaggle.json, by its own rules (KAGGLE_CONFIG_DIR, ~/.kaggle, XDG)."""
    given = os.environ.get("KAGGLE_CONFIG_DIR")
    if given:
        return Path(given).expanduser()
    home = Path.home() / ".kaggle"
    if not home.exists() and os.name != "nt":
        return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "kaggle"
    return home


def no_credentials(endpoint: str | None) -> PodiumError:
    token_note = (" (KAGGLE_API_TOKEN is set, but the server did not accept it)"
                  if os.environ.get("KAGGLE_API_TOKEN") else "")
    return RemoteError(
        f"No usable Kaggle credentials for {describe(endpoint)}{token_note}",
        where=str(config_dir() / "kaggle.json"),
        fix="put {\"username\": ..., \"key\": ...} in that kaggle.json (chmod 600; ~/.kaggle/kaggle.json is read "
            "instead when ~/.kaggle exists), or set KAGGLE_USERNAME and "
            "KAGGLE_KEY, or KAGGLE_API_TOKEN; Kaggle's keys come from https://www.kaggle.com/settings/api, "
            "an arena's from `podium arena add-user NAME`")


def server_message(exc: BaseException) -> str:
    """The server's own explanation: the JSON `message`, else the exception text."""
    response = getattr(exc, "response", None)
    try:
        message = response.json().get("message") if response is not None else None
    except ValueError:
        message = None
    return str(message or exc).strip()


def to_podium_error(exc: BaseException, *, action: str, endpoint: str | None, slug: str | None,
                    retries: int, read_timeout: float, missing: str | None = None) -> PodiumError | None:
    """Map a client failure to one actionable error; None if it is not a remote failure (a bug: let it raise)."""
    import requests

    server = describe(endpoint)
    status = status_of(exc)
    if isinstance(exc, requests.HTTPError) and status is not None:
        detail = server_message(exc)
        if status == 401:
            return RemoteError(f"{server} rejected the credentials while {action} (401 Unauthorized: {detail})",
                               where=str(config_dir() / "kaggle.json") + " or KAGGLE_USERNAME / KAGGLE_KEY",
                               fix="check the username and key; an arena's keys come from `podium arena add-user`")
        if status == 403:
            rules = f"{web_base(endpoint)}/competitions/{slug}/rules" if slug else web_base(endpoint)
            return RemoteError(f"{server} refused access while {action} (403 Forbidden: {detail})",
                               fix=f"accept the competition's rules at {rules} (on a podium arena the host runs "
                                   f"`podium arena accept-rules {slug or 'SLUG'} --user NAME`), then run again")
        if status == 404 and missing:
            return RemoteError(f"{missing} on {server} ({detail})")
        if status == 404:
            return RemoteError(f"No competition '{slug}' on {server} ({detail})",
                               fix="check the slug: the last part of the competition's URL "
                                   "(`kaggle competitions list -s WORD` searches)")
        if status == 429:
            return RemoteError(f"{server} is rate limiting podium: still 429 Too Many Requests after {retries} "
                               f"retries while {action}",
                               fix="wait a few minutes and run again, or raise kaggle.retries in the configuration")
        if status >= 500:
            return RemoteError(f"{server} failed while {action} (HTTP {status}: {detail})",
                               fix="try again later; the problem is on the server's side")
        return RemoteError(f"{server} refused the request while {action} (HTTP {status}: {detail})")
    if isinstance(exc, requests.Timeout):
        return RemoteError(f"{server} did not answer within {read_timeout:g} s while {action}",
                           fix="check that the server is up and reachable, or raise kaggle.read_timeout / "
                               "kaggle.connect_timeout in the configuration")
    if isinstance(exc, requests.ConnectionError):
        return RemoteError(f"Could not connect to {server} while {action} ({_root_cause(exc)})",
                           fix="check the network and the endpoint address (is the arena running?)")
    return None


def _root_cause(exc: BaseException) -> str:
    """'Connection refused' rather than urllib3's nested pool description."""
    text = str(exc)
    match = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if match:
        return match.group(1).strip()
    match = re.search(r"(RemoteDisconnected|ConnectionResetError|ProtocolError)\(?'?([^'\")]*)", text)
    return (match.group(2) or match.group(1)).strip() if match else type(exc).__name__
