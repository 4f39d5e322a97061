"""Typed records on disk: the JSON files podium writes for a later command, another run or another program.

Each is a pydantic model named by a `format` and a `version` that ride at the top of its file. It is written
atomically through its model and read back through it, with both checked and every field validated, so a
damaged, foreign or newer file gets one clear error (what, where, what to do) instead of a KeyError deep in
a command. An older version is brought up to date by the record's `upgrade` before it is validated.

The records: `schema.json` (agent/runtime/schema.py), `reference_profile.json` (agent/runtime/profile.py),
`candidates.json` (strategies/production/listing.py), `model_card.json` (strategies/production/card.py),
`manifest.json` (agent/rundir.py) and the batch table (agent/run/batch.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from agent.atomic import write_json
from agent.errors import InputError

MAX_PROBLEMS = 5


class Record(BaseModel):
    """A versioned JSON record: `write(path)` and `Record.read(path)`."""

    model_config = ConfigDict(extra="forbid")

    FORMAT: ClassVar[str]
    VERSION: ClassVar[int] = 1
    TITLE: ClassVar[str]  # what the file is, for messages: "reference profile"
    FIX: ClassVar[str] = "write it again with the podium command that made it"
    # How a file from before the records were versioned is known, to be read as version 1: its format name
    # then, or (it had none) a key it always held.
    LEGACY_FORMAT: ClassVar[str | None] = None
    UNVERSIONED_KEY: ClassVar[str | None] = None

    def write(self, path: str | os.PathLike) -> Path:
        """Atomically: a reader at the same moment sees the old record or the new one, never a mix."""
        return write_json(path, self.dumped())

    def dumped(self) -> dict[str, Any]:
        """The file's content: format and version first, then the fields."""
        return {"format": self.FORMAT, "version": self.VERSION, **self.model_dump(mode="json")}

    @classmethod
    def read(cls, path: str | os.PathLike) -> Self:
        path = Path(path)
        if not path.is_file():
            raise InputError(f"The {cls.TITLE} is missing", where=str(path), fix=cls.FIX)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"The {cls.TITLE} is not valid JSON ({exc})", where=str(path),
                             fix=cls.FIX) from exc
        return cls.parse(data, where=str(path))

    @classmethod
    def parse(cls, data: Any, where: str) -> Self:
        """A record from its file's parsed JSON; InputError naming the file for anything wrong with it."""
        if isinstance(data, dict):
            data = cls.upgrade(dict(data))
        if not isinstance(data, dict) or data.get("format") != cls.FORMAT:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise InputError(f"The file is not a podium {cls.TITLE} (format {found!r}, expected {cls.FORMAT!r})",
                             where=where, fix=cls.FIX)
        if data.get("version") != cls.VERSION:
            raise InputError(f"The {cls.TITLE} has version {data.get('version')!r}; this podium reads "
                             f"version {cls.VERSION}", where=where,
                             fix="use the podium version that wrote it, or " + cls.FIX)
        fields = {key: value for key, value in data.items() if key not in ("format", "version")}
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            problems = [f"{'.'.join(map(str, e['loc'])) or 'the record'}: {e['msg']}" for e in exc.errors()]
            shown = "; ".join(problems[:MAX_PROBLEMS]) + (" ..." if len(problems) > MAX_PROBLEMS else "")
            raise InputError(f"The {cls.TITLE} is damaged ({shown})", where=where, fix=cls.FIX) from exc

    @classmethod
    def upgrade(cls, data: dict[str, Any]) -> dict[str, Any]:
        """An older version's content in the current shape (by default: a pre-versioning file as version 1)."""
        legacy = data.get("format") == cls.LEGACY_FORMAT if cls.LEGACY_FORMAT else \
            cls.UNVERSIONED_KEY is not None and "format" not in data and cls.UNVERSIONED_KEY in data
        if legacy:
            data.update(format=cls.FORMAT, version=1)
        return data
