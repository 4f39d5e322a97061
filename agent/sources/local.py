"""A competition that is already a folder on disk."""

from __future__ import annotations

from pathlib import Path

from agent.competition.declaration import FIELDS, check_keys
from agent.config import read_yaml
from agent.errors import InputError
from agent.names import safe_component
from agent.sources.base import FetchedCompetition, Source, find_tables

DECLARATION = "competition.yaml"


class LocalSource(Source):
    """A folder with train, test and sample submission CSVs, and optionally competition.yaml."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder).expanduser().resolve()

    @property
    def slug(self) -> str:
        """competition.yaml's `slug`, else the folder's name: one folder name under --out, or refused."""
        declared = self._declared().get("slug")
        if declared is not None and declared != "":
            return safe_component(declared, "`slug` in competition.yaml", str(self.folder / DECLARATION))
        return safe_component(self.folder.name, "competition folder's name (the run's slug)", str(self.folder))

    def _declared(self) -> dict:
        """competition.yaml, its keys checked (agent/competition/declaration.py): a typo stops the run."""
        path = self.folder / DECLARATION
        if not path.is_file():
            return {}
        declared = read_yaml(path)
        check_keys(declared, str(path))
        return declared

    def fetch(self) -> FetchedCompetition:
        if not self.folder.is_dir():
            raise InputError("The competition folder does not exist", where=str(self.folder))
        public = self.folder / "public"
        folder = public if public.is_dir() and not any(self.folder.glob("*.csv")) else self.folder
        declared = self._declared()
        metadata = {k: declared[k] for k in ("title", "deadline", "max_daily_submissions") if k in declared}
        fields = {k: v for k, v in declared.items() if k in FIELDS}
        return FetchedCompetition(slug=self.slug, folder=folder, files=find_tables(folder),
                                  declared=fields, declared_by=str(self.folder / DECLARATION), metadata=metadata)
