"""Sources of competitions: a local folder, or Kaggle (and the arena) by slug or URL.

Imported by the run; imports the foundation, agent.competition and agent.kaggle.
"""

from __future__ import annotations

from pathlib import Path

from agent.errors import InputError
from agent.sources.base import FetchedCompetition, Source, find_tables
from agent.sources.kaggle import KaggleSource, parse_slug
from agent.sources.local import LocalSource

__all__ = ["FetchedCompetition", "KaggleSource", "LocalSource", "Source", "find_tables", "resolve_source"]


def resolve_source(text: str, *, endpoint: str | None = None, refresh: bool = False, **options) -> Source:
    """A path that exists is a local folder; a slug or competition URL is fetched through the kaggle client."""
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise InputError("SOURCE is a file, not a competition folder", where=str(path),
                             fix="pass the folder that holds train.csv, test.csv and sample_submission.csv")
        return LocalSource(path)
    if parse_slug(text) is not None:
        return KaggleSource(text, endpoint=endpoint, refresh=refresh, **options)
    raise InputError(f"'{text}' is neither an existing folder nor a competition slug or URL",
                     fix="pass a competition folder, a slug such as titanic, or "
                         "https://www.kaggle.com/competitions/<slug>")
