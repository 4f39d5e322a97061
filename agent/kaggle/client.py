"""`KaggleRemote`: the official kaggle client, pointed at an endpoint, with timeouts, retries and clear errors.

Every call runs inside `pointed_at(endpoint)` and `default_timeouts(...)`, with the client's own prints
captured into podium's log (debug level). Credentials are whatever the client finds (kaggle.json,
KAGGLE_USERNAME / KAGGLE_KEY, KAGGLE_API_TOKEN); podium never reads, logs or stores them itself.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from agent.config import KaggleSettings
from agent.errors import PodiumError
from agent.kaggle.endpoint import describe, pointed_at
from agent.kaggle.errors import config_dir, no_credentials, to_podium_error
from agent.kaggle.retry import with_retries
from agent.kaggle.timeouts import default_timeouts

log = logging.getLogger("podium.kaggle")
T = TypeVar("T")
UPLOAD_FAILED = "Could not submit to competition"  # KaggleApi.COMPETITION_SUBMIT_UPLOAD_FAILED_MESSAGE
MAX_LIST_PAGES = 20


class KaggleRemote:
    """One Kaggle-compatible server as the official client sees it."""

    def __init__(self, endpoint: str | None, settings: KaggleSettings | None = None):
        self.endpoint = endpoint
        self.settings = settings or KaggleSettings()
        self._api = None

    @property
    def label(self) -> str:
        return describe(self.endpoint)

    @contextlib.contextmanager
    def _session(self) -> Iterator[None]:
        with pointed_at(self.endpoint), default_timeouts(self.settings.connect_timeout, self.settings.read_timeout):
            yield

    def _authenticated(self):
        """A KaggleApi that has found credentials (call inside `_session`: a token is checked online).

        The client prints while importing and authenticating; that text goes to podium's log instead. The
        calls themselves run with quiet=True, so stdout is redirected only here, once per KaggleRemote.
        """
        if self._api is not None:
            return self._api
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
                try:
                    from kaggle.api.kaggle_api_extended import KaggleApi  # `import kaggle` authenticates
                except SystemExit:  # older clients exit at import without credentials
                    raise no_credentials(self.endpoint) from None
                api = KaggleApi()
                # The class fixes its config path at import time; follow KAGGLE_CONFIG_DIR / HOME as they are now.
                api.config_dir = str(config_dir())
                api.config = str(config_dir() / api.config_file)
                try:
                    api.authenticate()
                except SystemExit:
                    raise no_credentials(self.endpoint) from None
        finally:
            if printed.getvalue().strip():
                log.debug("kaggle client said: %s", printed.getvalue().strip()[:2000])
        self._api = api
        return api

    def call(self, action: str, fn: Callable[[Any], T], *, slug: str | None = None, idempotent: bool = True,
             missing: str | None = None) -> T:
        """Run `fn(api)`; retry what may be retried; turn failures into one PodiumError naming `action`.

        `missing` says what a 404 means for this call (default: no such competition).
        """
        def attempt() -> T:
            with self._session():
                return fn(self._authenticated())

        settings = self.settings
        try:
            return with_retries(attempt, what=action, retries=settings.retries, base=settings.backoff_seconds,
                                cap=settings.backoff_max_seconds, idempotent=idempotent)
        except PodiumError:
            raise
        except Exception as exc:
            error = to_podium_error(exc, action=action, endpoint=self.endpoint, slug=slug, missing=missing,
                                    retries=settings.retries, read_timeout=settings.read_timeout)
            if error is None:
                raise
            raise error from exc

    # --- the calls podium makes -------------------------------------------------------------------

    def competition(self, slug: str) -> dict[str, Any] | None:
        """The listing entry whose ref is exactly `slug` (on Kaggle, ref is the competition's full URL)."""
        token = ""
        for _ in range(MAX_LIST_PAGES):
            page = self.call("looking up the competition",
                             lambda api, token=token: api.competitions_list(search=slug, page_size=100,
                                                                            page_token=token or None), slug=slug)
            for item in (page.competitions if page else None) or []:
                if slug_of(item.ref) == slug:
                    return describe_competition(item)
            token = page.next_page_token if page else ""
            if not token:
                return None
        return None

    def download_all(self, slug: str, folder: str) -> None:
        self.call("downloading the competition's files",
                  lambda api: api.competition_download_files(slug, path=folder, force=True, quiet=True), slug=slug)

    def limits(self, slug: str):
        return self.call("checking today's submission limits",
                         lambda api: api.competition_get_submission_limits(slug), slug=slug)

    def submit(self, path: str, message: str, slug: str):
        return self.call("uploading the submission",
                         lambda api: api.competition_submit(path, message, slug, quiet=True), slug=slug,
                         idempotent=False)

    def submission(self, ref: int, slug: str | None = None):
        return self.call("checking the submission's status", lambda api: api.get_submission(ref), slug=slug,
                         missing=f"No submission {ref} of yours")

    def leaderboard(self, slug: str) -> list:
        return self.call("reading the leaderboard", lambda api: api.competition_leaderboard_view(slug, page_size=100),
                         slug=slug) or []


def slug_of(ref: str) -> str:
    """'https://www.kaggle.com/competitions/titanic' -> 'titanic'; a bare slug stays as it is."""
    return (ref or "").rstrip("/").rsplit("/", 1)[-1]


def describe_competition(item) -> dict[str, Any]:
    """The listing's fields podium keeps, in snake_case; dates as ISO 8601 with Z."""
    deadline = getattr(item, "deadline", None)
    return {
        "title": item.title, "url": item.url, "category": item.category, "reward": item.reward,
        "evaluation_metric": item.evaluation_metric or None,
        "deadline": deadline.strftime("%Y-%m-%dT%H:%M:%SZ") if deadline else None,
        "max_daily_submissions": item.max_daily_submissions, "max_team_size": item.max_team_size,
        "team_count": item.team_count, "user_has_entered": item.user_has_entered,
    }
