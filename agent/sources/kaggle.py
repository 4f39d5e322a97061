"""A competition on Kaggle (or a Kaggle-compatible arena), fetched once through the official client and cached.

Cache: `<kaggle.cache_dir>/<slug>/` for Kaggle itself, `<kaggle.cache_dir>/<host_port>/<slug>/` for other
endpoints, so an arena's 'titanic' never mixes with Kaggle's. A cached folder holds `files/` and
`podium-fetch.json` (written last); it is built beside its final place and moved in whole, so a killed
download leaves nothing that looks complete. A second run reuses it without touching the network.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agent.atomic import staged_directory, write_json
from agent.config import KaggleSettings
from agent.errors import InputError, RemoteError
from agent.kaggle.endpoint import resolve_endpoint
from agent.names import safe_component
from agent.sources.base import FetchedCompetition, Source, find_tables, other_tables

log = logging.getLogger("podium.sources")
MARKER = "podium-fetch.json"
SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_URL_PATH = re.compile(r"^/(?:competitions|c)/([^/]+)")


def parse_slug(text: str) -> str | None:
    """A slug ('titanic') or a competition URL ('https://www.kaggle.com/competitions/titanic/data') -> slug."""
    text = text.strip()
    if text.startswith(("http://", "https://")):
        match = _URL_PATH.match(urlsplit(text).path)
        text = match.group(1) if match else ""
    return text if SLUG.match(text) and ".." not in text else None


class KaggleSource(Source):
    """Fetch through `KaggleApi`: metadata from the competition listing, files from the download-all archive."""

    def __init__(self, slug: str, *, endpoint: str | None = None, refresh: bool = False,
                 settings: KaggleSettings | None = None):
        parsed = parse_slug(slug)
        if parsed is None:
            raise InputError(f"'{slug}' is neither a competition slug nor a competition URL",
                             fix="pass e.g. titanic or https://www.kaggle.com/competitions/titanic")
        self._slug = safe_component(parsed, "competition slug")
        self.given_endpoint = endpoint
        self.refresh = refresh
        self.settings = settings or KaggleSettings()

    @property
    def slug(self) -> str:
        return self._slug

    @property
    def endpoint(self) -> str | None:
        return resolve_endpoint(self.given_endpoint, self.settings.endpoint)

    def configure(self, settings) -> None:
        """Take the run's resolved settings (cache, timeouts, retries) before fetching."""
        self.settings = settings.kaggle

    def cache_folder(self) -> Path:
        base = Path(self.settings.cache_dir).expanduser()
        endpoint = self.endpoint
        if endpoint:
            base = base / re.sub(r"[^A-Za-z0-9.-]+", "_", urlsplit(endpoint).netloc + urlsplit(endpoint).path)
        return base / self.slug

    def fetch(self) -> FetchedCompetition:
        folder = self.cache_folder()
        marker = folder / MARKER
        if marker.is_file() and not self.refresh:
            log.info("Using the cached copy of %s in %s", self.slug, folder)
            return self._fetched(folder, json.loads(marker.read_text()))
        return self._download(folder)

    def _download(self, folder: Path) -> FetchedCompetition:
        from agent.kaggle.client import KaggleRemote
        from agent.kaggle.unzip import safe_extract

        remote = KaggleRemote(self.endpoint, self.settings)
        metadata = remote.competition(self.slug)
        if metadata is None:
            log.warning("%s does not list '%s'; fetching without its metadata", remote.label, self.slug)
        with staged_directory(folder) as staging:  # a killed download leaves nothing that looks complete
            remote.download_all(self.slug, str(staging / "download"))
            archives = sorted(p for p in (staging / "download").glob("*") if not p.name.endswith(".kaggle-partial"))
            if len(archives) != 1 or archives[0].suffix != ".zip":
                raise RemoteError(f"{remote.label} sent {[a.name for a in archives]} instead of one .zip archive",
                                  where=str(staging))
            safe_extract(archives[0], staging / "files", self.settings.decompress_limits(),
                         self.settings.max_archive_members)
            record = {"slug": self.slug, "endpoint": self.endpoint, "archive_bytes": archives[0].stat().st_size,
                      "metadata": metadata}
            archives[0].unlink()
            write_json(staging / MARKER, record)
            self._fetched(staging, record)  # refuse an archive without the three tables before caching it
        log.info("Downloaded %s from %s into %s", self.slug, remote.label, folder)
        return self._fetched(folder, record)

    def _fetched(self, folder: Path, record: dict[str, Any]) -> FetchedCompetition:
        files = folder / "files"
        subfolders = [p for p in files.iterdir() if p.is_dir()] if files.is_dir() else []
        if files.is_dir() and not any(files.glob("*.csv*")) and len(subfolders) == 1:
            files = subfolders[0]  # an archive that wraps everything in one folder
        metadata = dict(record.get("metadata") or {})
        declared = {"evaluation_metric": metadata["evaluation_metric"]} if metadata.get("evaluation_metric") else {}
        metadata.update(source="kaggle", endpoint=record.get("endpoint"), cache=str(folder))
        found = find_tables(files)
        return FetchedCompetition(slug=self.slug, folder=files, files=found, declared=declared,
                                  declared_by="kaggle", metadata=metadata,
                                  found=other_tables(files, list(found.values())))  # side tables (stores.csv...)
