"""A relation as a model reads it: which side table, joined on which columns, in which key mode, adding which
columns, made by which SQL. Recorded in the manifest, in competition.json's `relations`, and in a production
model's schema.json, so the served model joins exactly as the run did (agent/competition/relations/index.py).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from agent.competition.relations.keys import TEXT

LOOKUP, HISTORY = "lookup", "history"
KEY, TIME, COUNT = "__key", "__t", "__n"  # the side file's key, event time (seconds) and events so far
SIDE_FOLDER = "side"  # beside schema.json in an artifact, and in a run's relations/ folder


class Join(BaseModel):
    """One side table joined onto the rows (a lookup) or aggregated per key (a history)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    table: str
    kind: Literal["lookup", "history"]
    on: tuple[tuple[str, str], ...]          # (column of the rows, key column of the side table)
    mode: Literal["text", "number"] = TEXT   # how keys are compared (keys.py)
    file: str                                # side/<table>.parquet: the key, maybe the time, the columns stored
    columns: tuple[str, ...]                 # the columns it adds to each row, as the models read them
    time: str | None = None                  # the rows' time: only events strictly before it count
    time_format: str | None = None           # how that time is written (agent/competition/dates.py)
    windows: tuple[int, ...] = ()            # days: counts of events in each window before the row's time
    sql: str = ""                            # the exact SQL that made the side file from the side table
    side_schema: tuple[tuple[str, str], ...] = ()  # the side file's columns and their types, as read (hashable)
    carried: tuple[str, ...] = ()            # of `columns`, those only keying a later join (no feature)

    @property
    def row_columns(self) -> list[str]:
        """What each row must carry for this join: its key columns, and its time."""
        return list(dict.fromkeys([row for row, _ in self.on] + ([self.time] if self.time else [])))

    @property
    def timed(self) -> bool:
        return self.kind == HISTORY and self.time is not None

    def stored(self) -> list[str]:
        """The columns of `columns` read from the side file (the others are computed at the row's time)."""
        return [c for c in self.columns if c not in self.computed()]

    def computed(self) -> list[str]:
        if not self.timed:
            return []
        return [f"{self.table}.count", f"{self.table}.days_since_last",
                *(f"{self.table}.count_{days}d" for days in self.windows)]

    def keeping(self, columns: list[str] | set[str]) -> Join:
        """This join reduced to the columns a model kept (the counts a window needs stay stored)."""
        kept = tuple(c for c in self.columns if c in set(columns))
        stored = {c for c in kept if c not in self.computed()}
        schema = tuple((c, t) for c, t in self.side_schema if c.startswith("__") or c in stored)
        return self.model_copy(update={"columns": kept, "side_schema": schema,
                                       "carried": tuple(c for c in self.carried if c in kept)})
