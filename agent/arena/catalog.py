"""The arena's competitions: one folder each (competition.yaml, public/, private/answers.csv), read on demand.

Only regular files directly inside `public/` are ever served, looked up by exact name (never by joining a
path a user sent), and `private/` is read by the grader alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.atomic import write_with
from agent.config import read_yaml
from agent.errors import InputError
from agent.names import safe_component

log = logging.getLogger("podium.arena")
DECLARATION = "competition.yaml"


def parse_date(value: Any) -> dt.datetime | None:
    """A YAML date or ISO string -> naive UTC datetime."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time(23, 59, 59))
    else:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


@dataclass(frozen=True)
class ArenaCompetition:
    """One hosted competition, as competition.yaml declares it."""

    slug: str
    folder: Path
    title: str
    evaluation_metric: str
    deadline: dt.datetime | None
    max_daily_submissions: int
    max_team_size: int
    category: str
    reward: str
    rules: str
    description: str
    created: dt.datetime
    grading: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return zlib.crc32(self.slug.encode()) & 0x7FFFFFFF

    @property
    def answers(self) -> Path:
        return self.folder / "private" / "answers.csv"

    def closed(self, moment: dt.datetime) -> bool:
        return self.deadline is not None and moment > self.deadline

    def public_files(self) -> dict[str, Path]:
        """name -> path of the regular, non-hidden files directly inside public/ (symlinks are not served)."""
        public = self.folder / "public"
        if not public.is_dir():
            return {}
        return {p.name: p for p in sorted(public.iterdir())
                if p.is_file() and not p.is_symlink() and not p.name.startswith(".")}


def load_competition(folder: Path) -> ArenaCompetition:
    """Read one competition folder; InputError says what is missing or malformed."""
    declaration = folder / DECLARATION
    if not declaration.is_file():
        raise InputError("The competition folder has no competition.yaml", where=str(folder))
    data = read_yaml(declaration, error=InputError)
    if not data.get("evaluation_metric"):
        raise InputError("competition.yaml must name an evaluation_metric", where=str(declaration))
    if not (folder / "private" / "answers.csv").is_file() or not (folder / "public").is_dir():
        raise InputError("A competition folder needs public/ and private/answers.csv", where=str(folder),
                         fix="build it with `podium arena prepare`")
    try:
        deadline = parse_date(data.get("deadline"))
    except ValueError as exc:
        raise InputError(f"deadline is not an ISO date: {exc}", where=str(declaration)) from exc
    created = dt.datetime.fromtimestamp(declaration.stat().st_mtime, dt.UTC).replace(tzinfo=None)
    return ArenaCompetition(
        slug=folder.name, folder=folder, title=str(data.get("title") or folder.name),
        evaluation_metric=str(data["evaluation_metric"]), deadline=deadline,
        max_daily_submissions=int(data.get("max_daily_submissions", 5)),
        max_team_size=int(data.get("max_team_size", 1)),
        category=str(data.get("category") or "Playground"), reward=str(data.get("reward") or "Knowledge"),
        rules=str(data.get("rules") or ""), description=str(data.get("description") or ""), created=created,
        grading=dict(data.get("grading") or {}),
    )


class Catalog:
    """All competition folders under the arena's root (hidden folders, like the state folder, are skipped)."""

    def __init__(self, root: Path, blobs: Path):
        self.root = Path(root).resolve()
        self.blobs = Path(blobs)
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, ArenaCompetition]] = {}

    def all(self) -> list[ArenaCompetition]:
        found = []
        for folder in sorted(self.root.iterdir()):
            if folder.is_dir() and not folder.name.startswith(".") and (folder / DECLARATION).is_file():
                competition = self.get(folder.name)
                if competition is not None:
                    found.append(competition)
        return found

    def get(self, slug: str) -> ArenaCompetition | None:
        """The competition named `slug`, or None; `slug` must be one folder name, nothing more."""
        try:
            safe_component(slug, "competition slug")
        except InputError:
            return None
        if slug.startswith("."):  # hidden folders (the arena's state) are no competitions
            return None
        folder = self.root / slug
        declaration = folder / DECLARATION
        if not declaration.is_file() or folder.is_symlink():
            return None
        stamp = declaration.stat().st_mtime
        with self._lock:
            cached = self._cache.get(slug)
            if cached and cached[0] == stamp:
                return cached[1]
        try:
            competition = load_competition(folder)
        except InputError as error:
            log.warning("Skipping %s: %s", folder, error.message)
            return None
        with self._lock:
            self._cache[slug] = (stamp, competition)
        return competition

    def bundle(self, competition: ArenaCompetition) -> Path:
        """A zip of the public files (rebuilt when one of them changes): what 'download all' serves."""
        files = competition.public_files()
        target = self.blobs / f"{competition.slug}.zip"
        newest = max((p.stat().st_mtime for p in files.values()), default=0.0)
        with self._lock:
            if target.is_file() and target.stat().st_mtime >= newest and _names(target) == sorted(files):
                return target

            def write(handle) -> None:
                with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
                    for name, path in files.items():
                        bundle.write(path, arcname=name)

            write_with(target, write, binary=True)
        return target


def _names(archive: Path) -> list[str]:
    try:
        with zipfile.ZipFile(archive) as bundle:
            return sorted(bundle.namelist())
    except zipfile.BadZipFile:
        return []
