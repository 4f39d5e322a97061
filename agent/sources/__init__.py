"""Sources of competitions: a local folder now; Kaggle (and the arena) by slug."""

from __future__ import annotations

from pathlib import Path

from agent.errors import InputError
from agent.sources.base import FetchedCompetition, Source, find_tables
from agent.sources.local import LocalSource

__all__ = ["FetchedCompetition", "LocalSource", "Source", "find_tables", "resolve_source"]


def resolve_source(text: str, **options) -> Source:
    """A path that exists is a local folder; anything else is a competition slug or URL."""
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise InputError("SOURCE is a file, not a competition folder", where=str(path),
                             fix="pass the folder that holds train.csv, test.csv and sample_submission.csv")
        return LocalSource(path)
    raise InputError(f"'{text}' is not an existing folder", fix="pass a competition folder")
