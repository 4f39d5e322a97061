"""A source turns what the user typed into the places of a competition's tables plus declared metadata."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.errors import InputError
from agent.tables import Location

TABLE_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".parquet", ".pq", ".parq")
_SUFFIX = re.compile(r"\.(csv(\.\w+)?|parquet|pq|parq)$")
ROLES = ("train", "test", "sample_submission")


@dataclass(frozen=True)
class FetchedCompetition:
    """Where a competition's tables are (files on local disk, or a database's tables and queries), and what the
    host declares about them. `files` has train and test, and the sample submission when there is one."""

    slug: str
    folder: Path
    files: dict[str, Path | Location]
    declared: dict[str, Any] = field(default_factory=dict)
    declared_by: str = "competition.yaml"
    metadata: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Path | Location] = field(default_factory=dict)  # side tables declared, by name
    found: dict[str, Path] = field(default_factory=dict)  # the other table files beside train, by name
    relations: Any = None  # competition.yaml's `relations:` as written (agent/competition/relations/declared.py)

    def shown(self) -> dict[str, str]:
        """Where each table is, for the manifest: paths, or URLs without their password and what is read."""
        places = {**self.files, **{f"tables.{name}": place for name, place in {**self.found, **self.tables}.items()}}
        return {role: place.shown if isinstance(place, Location) else str(place) for role, place in places.items()}


class Source(ABC):
    """Where a competition comes from. One small class per kind of place."""

    @property
    @abstractmethod
    def slug(self) -> str: ...

    @abstractmethod
    def fetch(self) -> FetchedCompetition:
        """Bring the files to local disk (or find them there) and read the host's metadata."""

    def configure(self, settings) -> None:  # noqa: B027 - most sources need no settings
        """Take the run's resolved settings before fetching (a remote source: cache, timeouts, retries)."""


def role_of(name: str) -> str | None:
    """Which table a name is by Kaggle's naming habits (sampleSubmission, gender_submission, train_v2...)."""
    stem = _SUFFIX.sub("", name.lower())
    if "submission" in stem or "submit" in stem:
        return "sample_submission"
    if stem.startswith("train") or stem.endswith("train"):
        return "train"
    if stem.startswith("test") or stem.endswith("test"):
        return "test"
    return None


def match_roles(names: list[str]) -> dict[str, str]:
    """Each role's name among `names`: the shortest (train.csv over train_extra.csv), Parquet over CSV on a tie
    (it keeps the types)."""
    found: dict[str, str] = {}
    for name in names:
        role = role_of(name)
        if role is not None and (role not in found or _preference(name) < _preference(found[role])):
            found[role] = name
    return found


def _preference(name: str) -> tuple:
    return len(_SUFFIX.sub("", name)), not name.lower().endswith((".parquet", ".pq", ".parq")), name


def table_name(path: Path) -> str:
    """A side table's name from its file: `stores.csv.gz` -> stores (the prefix of the columns it brings)."""
    return _SUFFIX.sub("", path.name.lower()) if path.name.lower().endswith(TABLE_SUFFIXES) else path.stem


def other_tables(folder: Path, used: list[Path]) -> dict[str, Path]:
    """Every table file in `folder` besides those `used` (train, test, the sample submission): side tables,
    each named by its file (agent/competition/relations relates them, or reports them left out)."""
    taken = {Path(p).resolve() for p in used}
    found = {}
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(TABLE_SUFFIXES)):
        name = table_name(path)
        if path.resolve() not in taken and role_of(path.name) is None and name not in found:
            found[name] = path
    return found


def find_tables(folder: Path) -> dict[str, Path]:
    """Find train, test and sample submission (CSV or Parquet) by Kaggle's naming habits."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(TABLE_SUFFIXES))
    found = {role: folder / name for role, name in match_roles([p.name for p in files]).items()}
    missing = [role for role in ROLES if role not in found]
    if missing:
        present = ", ".join(p.name for p in files) or "no CSV or Parquet files"
        raise InputError(
            f"The competition folder lacks {' and '.join(m.replace('_', ' ') for m in missing)} "
            f"(it holds: {present})",
            where=str(folder),
            fix="a competition folder needs train, test and sample_submission tables (.csv or .parquet), or a "
                "competition.yaml naming them (`train:`, `test:`, or a `database:` with its tables)")
    return found
