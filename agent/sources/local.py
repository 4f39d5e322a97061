"""A competition that is already a folder on disk."""

from __future__ import annotations

from pathlib import Path

from agent.config import read_yaml
from agent.errors import InputError
from agent.sources.base import FetchedCompetition, Source, find_tables

DECLARATION = "competition.yaml"


class LocalSource(Source):
    """A folder with train, test and sample submission CSVs, and optionally competition.yaml."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder).expanduser().resolve()

    @property
    def slug(self) -> str:
        return self._declared().get("slug") or self.folder.name

    def _declared(self) -> dict:
        path = self.folder / DECLARATION
        return read_yaml(path) if path.is_file() else {}

    def fetch(self) -> FetchedCompetition:
        if not self.folder.is_dir():
            raise InputError("The competition folder does not exist", where=str(self.folder))
        public = self.folder / "public"
        folder = public if public.is_dir() and not any(self.folder.glob("*.csv")) else self.folder
        declared = self._declared()
        metadata = {k: declared[k] for k in ("title", "deadline", "max_daily_submissions") if k in declared}
        return FetchedCompetition(slug=self.slug, folder=folder, files=find_tables(folder),
                                  declared=declared, declared_by=str(self.folder / DECLARATION), metadata=metadata)
