"""A competition that is already a folder on disk: its tables (CSV or Parquet) found by name, or named in its
competition.yaml (`train:`, `test:`... as paths in the folder, or as tables and queries of a `database:`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from agent.competition.declaration import FIELDS, check_keys
from agent.config import read_yaml
from agent.errors import InputError
from agent.names import safe_component
from agent.sources.base import ROLES, TABLE_SUFFIXES, FetchedCompetition, Source, find_tables, other_tables
from agent.tables import is_url, parse_location

DECLARATION = "competition.yaml"
PLACES = (*ROLES, "tables", "database")  # competition.yaml's keys that say where the tables are


class LocalSource(Source):
    """A folder with train, test and sample submission tables, and optionally competition.yaml (which may name
    the tables, or a database holding them: then the folder needs nothing else)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder).expanduser().resolve()
        self.settings = None  # the run's settings (configure): a database source's connect timeout

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

    def configure(self, settings) -> None:
        self.settings = settings

    def fetch(self) -> FetchedCompetition:
        if not self.folder.is_dir():
            raise InputError("The competition folder does not exist", where=str(self.folder))
        declared = self._declared()
        metadata = {k: declared[k] for k in ("title", "deadline", "max_daily_submissions") if k in declared}
        fields = {k: v for k, v in declared.items() if k in FIELDS}
        where = str(self.folder / DECLARATION)
        if declared.get("database"):
            from agent.sources.database import DatabaseSource

            source = DatabaseSource(str(declared["database"]), {role: declared.get(role) for role in ROLES},
                                    tables=declared.get("tables"), declared=fields, declared_by=where,
                                    slug=self.slug, folder=self.folder, metadata=metadata, where=where)
            if self.settings is not None:
                source.configure(self.settings)
            return replace(source.fetch(), relations=declared.get("relations"))
        named = {role: declared[role] for role in ROLES if declared.get(role)}
        tables = declared.get("tables") or {}
        if not isinstance(tables, dict):
            raise InputError("`tables` must map names to files", where=where,
                             fix="write e.g. tables: {stores: stores.csv}")
        if named.keys() >= {"train", "test"}:
            files = {role: self._place(value, role) for role, value in named.items()}
            folder = self.folder
        else:
            public = self.folder / "public"  # an arena's layout: the tables participants download
            here = any(p.is_file() and p.name.lower().endswith(TABLE_SUFFIXES) for p in self.folder.iterdir())
            folder = public if public.is_dir() and not here else self.folder
            files = {**find_tables(folder), **{role: self._place(value, role) for role, value in named.items()}}
        side = {str(name): self._place(value, f"table '{name}'") for name, value in tables.items()}
        used = [place for place in [*files.values(), *side.values()] if isinstance(place, Path)]
        found = {name: path for name, path in other_tables(folder, used).items() if name not in side}
        return FetchedCompetition(slug=self.slug, folder=self.folder, files=files, declared=fields,
                                  declared_by=where, metadata=metadata, tables=side, found=found,
                                  relations=declared.get("relations"))

    def _place(self, value, role: str):
        """A table named in competition.yaml: a path relative to the folder, or a database URL#table-or-query."""
        if is_url(value):
            return parse_location(value, role)
        path = Path(str(value)).expanduser()
        return path if path.is_absolute() else self.folder / path
