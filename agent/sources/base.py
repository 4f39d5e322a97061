"""A source turns what the user typed into a local folder of competition files plus declared metadata."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.errors import InputError

_TABLE_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz")
ROLES = ("train", "test", "sample_submission")


@dataclass(frozen=True)
class FetchedCompetition:
    """Competition files on local disk, and what the host declares about them."""

    slug: str
    folder: Path
    files: dict[str, Path]
    declared: dict[str, Any] = field(default_factory=dict)
    declared_by: str = "competition.yaml"
    metadata: dict[str, Any] = field(default_factory=dict)


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


def find_tables(folder: Path) -> dict[str, Path]:
    """Find train, test and sample submission by Kaggle's naming habits (sampleSubmission, gender_submission...)."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(_TABLE_SUFFIXES))
    found: dict[str, Path] = {}
    for path in files:
        stem = re.sub(r"\.csv(\.\w+)?$", "", path.name.lower())
        if "submission" in stem or "submit" in stem:
            role = "sample_submission"
        elif stem.startswith("train") or stem.endswith("train"):
            role = "train"
        elif stem.startswith("test") or stem.endswith("test"):
            role = "test"
        else:
            continue
        if role in found and len(path.name) >= len(found[role].name):
            continue  # prefer the shortest name: train.csv over train_extra.csv
        found[role] = path
    missing = [role for role in ROLES if role not in found]
    if missing:
        present = ", ".join(p.name for p in files) or "no CSV files"
        raise InputError(
            f"The competition folder lacks {' and '.join(m.replace('_', ' ') for m in missing)} "
            f"(it holds: {present})",
            where=str(folder),
            fix="a competition folder needs train.csv, test.csv and sample_submission.csv")
    return found
