"""Sources of competitions: a local folder (CSV or Parquet, or a competition.yaml naming a database), a database
URL, or Kaggle (and the arena) by slug or URL.

Imported by the run; imports the foundation, agent.tables, agent.competition and agent.kaggle.
"""

from __future__ import annotations

from pathlib import Path

from agent.errors import InputError
from agent.sources.base import FetchedCompetition, Source, find_tables
from agent.sources.database import DatabaseSource
from agent.sources.kaggle import KaggleSource, parse_slug
from agent.sources.local import LocalSource
from agent.tables import is_database_url, redact

__all__ = ["DatabaseSource", "FetchedCompetition", "KaggleSource", "LocalSource", "Source", "find_tables",
           "resolve_source"]
TABLE_OPTIONS = {"train": "--train", "test": "--test", "sample_submission": "--sample-submission"}


def resolve_source(text: str, *, endpoint: str | None = None, refresh: bool = False,
                   tables: dict[str, str | None] | None = None, **options) -> Source:
    """A database URL is a DatabaseSource (`tables`: --train, --test, --sample-submission); a path that exists is a
    local folder; a slug or competition URL is fetched through the kaggle client."""
    tables = {role: value for role, value in (tables or {}).items() if value}
    if is_database_url(text):
        return DatabaseSource(text, tables)
    if tables:
        names = ", ".join(TABLE_OPTIONS.get(role, role) for role in tables)
        raise InputError(f"{names} name tables of a database source; '{redact(text)}' is not a database URL",
                         fix="pass a database URL (postgresql://USER@HOST/DB, sqlite:///PATH, duckdb:///PATH) as "
                             "SOURCE, or name a folder's tables in its competition.yaml")
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise InputError("SOURCE is a file, not a competition folder", where=str(path),
                             fix="pass the folder that holds train.csv, test.csv and sample_submission.csv")
        return LocalSource(path)
    if parse_slug(text) is not None:
        return KaggleSource(text, endpoint=endpoint, refresh=refresh, **options)
    raise InputError(f"'{redact(text)}' is neither an existing folder nor a competition slug or URL",
                     fix="pass a competition folder, a database URL (postgresql://USER@HOST/DB), a slug such as "
                         "titanic, or https://www.kaggle.com/competitions/<slug>")
