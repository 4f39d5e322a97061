"""The joins at work: side data in memory, indexed by key, turning raw rows into the rows the models read.

One code for every place rows are joined: the run's train and test tables, `podium predict`, `podium serve`
(the index is built once, when the model loads, so a request pays a dictionary look-up and a binary search),
`podium monitor` and `podium retrain`. Point in time: for a history with a time, a row gets the aggregates of
the events strictly before its own time (the side file holds the running aggregates per key and moment, and
a binary search finds the last moment before the row's); a later event would be the answer leaking in.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agent.competition.dates import DATETIME, parse, timestamp
from agent.competition.relations.keys import frame_keys, record_key
from agent.competition.relations.spec import COUNT, HISTORY, KEY, TIME, Join
from agent.errors import InputError

DAY_SECONDS = 86_400
_PAD = 3  # a composite position leaves room before the first event and after the last


@dataclass
class SideIndex:
    """One join's side data: key -> position (lookups, untimed histories) or key -> group of moments."""

    join: Join
    frame: pd.DataFrame

    def __post_init__(self) -> None:
        frame = self.frame
        # a history's event count is 0, not missing, for a key without events
        self.count_column = f"{self.join.table}.count" if self.join.kind == HISTORY else None
        self.stored = tuple(self.join.stored())  # worked out once: a request reads them
        self.row_columns = tuple(self.join.row_columns)
        self.on = [row for row, _ in self.join.on]
        self.values = {c: frame[c].to_numpy() for c in self.stored}
        self.numeric = {c: pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
                        for c in self.stored}
        if not self.join.timed:
            keys = frame[KEY].astype(object)
            self.positions = pd.Index(keys)
            self.lookup = {k: i for i, k in enumerate(keys)}
            return
        groups, uniques = pd.factorize(frame[KEY].astype(object))
        times = frame[TIME].to_numpy(dtype=np.int64)
        self.t0 = int(times.min()) if len(times) else 0
        self.span = (int(times.max()) - self.t0 + _PAD) if len(times) else _PAD
        if len(uniques) and len(uniques) * float(self.span) > 2**62:
            raise InputError(f"The history '{self.join.table}' spans too long a time for its number of keys",
                             fix="declare a coarser time, or fewer keys, in `relations:` of competition.yaml")
        self.groups = pd.Index(uniques.astype(object))
        self.group_of = {k: i for i, k in enumerate(uniques)}
        self.starts = np.searchsorted(groups, np.arange(len(uniques)), side="left").tolist()  # groups are sorted
        self.composite = groups.astype(np.int64) * self.span + (times - self.t0 + 1)
        self.group_ids = groups.astype(np.int64)
        self.counts = frame[COUNT].to_numpy(dtype=np.int64)
        self.times = times

    # --- many rows ------------------------------------------------------------------------------------
    def columns_for(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The columns this join adds to `rows` (same index)."""
        on = [row for row, _ in self.join.on]
        keys = frame_keys(rows, on, self.join.mode)
        if not self.join.timed:
            found = self.positions.get_indexer(keys.to_numpy())
            return self._gather(found, rows.index)
        groups = self.groups.get_indexer(keys.to_numpy())
        moments = parse(rows[self.join.time], self.join.time_format or DATETIME)
        seconds = np.where(moments.notna(), moments.to_numpy(dtype="datetime64[ns]").astype(np.int64) // 10**9, 0)
        known = (groups >= 0) & moments.notna().to_numpy()
        return self._timed(groups, seconds, known, rows.index)

    # --- one row ----------------------------------------------------------------------------------------
    def record_values(self, record: dict[str, Any]) -> dict[str, Any]:
        """The columns this join adds to one served row (the same values `columns_for` gives), in scalar steps:
        a dictionary look-up, and for a timed history a binary search per window (what a request pays)."""
        key = record_key(record, self.on, self.join.mode)
        if not self.join.timed:
            return self._row(self.lookup.get(key, -1) if key is not None else -1)
        moment = timestamp(record.get(self.join.time), self.join.time, self.join.time_format or DATETIME)
        group = self.group_of.get(key, -1) if key is not None else -1
        if group < 0 or moment is None:
            return self._timed_row(-1, 0, group)
        seconds = moment.value // 10**9
        return self._timed_row(self._before(group, seconds), seconds, group)

    def _row(self, position: int) -> dict[str, Any]:
        out = {}
        for column in self.stored:
            if position >= 0:
                value = _plain(self.values[column][position])
                out[column] = float(value) if self.numeric[column] and value is not None else value
            else:
                out[column] = (0.0 if column == self.count_column else math.nan) if self.numeric[column] else None
        return out

    def _before(self, group: int, seconds: int) -> int:
        """The side file's last moment of `group` strictly before `seconds`, or -1."""
        offset = min(max(seconds - self.t0 + 1, 0), self.span - 1)
        before = int(self.composite.searchsorted(group * self.span + offset, side="left")) - 1
        return before if before >= self.starts[group] else -1

    def _timed_row(self, position: int, seconds: int, group: int) -> dict[str, Any]:
        out = self._row(position)
        table = self.join.table
        count = float(self.counts[position]) if position >= 0 else 0.0
        computed = {f"{table}.count": count,
                    f"{table}.days_since_last": (seconds - int(self.times[position])) / DAY_SECONDS
                    if position >= 0 else math.nan}
        for days in self.join.windows:
            earlier = self._before(group, seconds - days * DAY_SECONDS) if position >= 0 else -1
            computed[f"{table}.count_{days}d"] = count - (float(self.counts[earlier]) if earlier >= 0 else 0.0)
        out.update({c: v for c, v in computed.items() if c in self.join.columns})
        return {c: out[c] for c in self.join.columns}

    # --- shared -----------------------------------------------------------------------------------------
    def _gather(self, found: np.ndarray, index, as_arrays: bool = False):
        hit = found >= 0
        safe = np.where(hit, found, 0)
        out = {}
        for column in self.stored:
            values = self.values[column]
            if len(values) == 0:
                taken = np.full(len(found), np.nan if self.numeric[column] else None, dtype=object)
            else:
                taken = values[safe]
            if self.numeric[column]:
                taken = np.where(hit, taken.astype(float), 0.0 if column == self.count_column else np.nan)
            else:
                taken = np.where(hit, taken, None).astype(object)
            out[column] = taken
        return out if as_arrays else pd.DataFrame(out, index=index, columns=list(self.stored))

    def _position(self, groups: np.ndarray, seconds: np.ndarray, known: np.ndarray) -> np.ndarray:
        """For each row, the side file's last moment of its key strictly before `seconds` (-1: none)."""
        offset = np.clip(seconds - self.t0 + 1, 0, self.span - 1)
        wanted = np.where(known, groups, 0) * self.span + offset
        before = np.searchsorted(self.composite, wanted, side="left") - 1
        valid = known & (before >= 0)
        valid &= self.group_ids[np.clip(before, 0, None)] == groups if len(self.composite) else False
        return np.where(valid, before, -1)

    def _timed(self, groups: np.ndarray, seconds: np.ndarray, known: np.ndarray, index, as_arrays: bool = False):
        found = self._position(groups, seconds, known)
        out = self._gather(found, index, as_arrays=True)
        hit = found >= 0
        safe = np.where(hit, found, 0)
        counts = np.where(hit, self.counts[safe] if len(self.counts) else 0, 0).astype(float)
        table = self.join.table
        computed = {f"{table}.count": counts,
                    f"{table}.days_since_last": np.where(
                        hit, (seconds - (self.times[safe] if len(self.times) else 0)) / DAY_SECONDS, np.nan)}
        for days in self.join.windows:
            earlier = self._position(groups, seconds - days * DAY_SECONDS, known)
            old = np.where(earlier >= 0, self.counts[np.where(earlier >= 0, earlier, 0)] if len(self.counts)
                           else 0, 0)
            computed[f"{table}.count_{days}d"] = counts - old
        out.update({c: v for c, v in computed.items() if c in self.join.columns})
        ordered = {c: out[c] for c in self.join.columns}
        return ordered if as_arrays else pd.DataFrame(ordered, index=index)


def _plain(value: Any) -> Any:
    """A numpy scalar as the plain Python value a served row holds (NaN stays NaN)."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    return math.nan if isinstance(value, float) and math.isnan(value) else value


class Joiner:
    """Every join of a model (or a run), in order, with their side data in memory."""

    def __init__(self, joins: list[Join] | tuple[Join, ...], root: Path):
        self.joins = tuple(joins)
        self.root = Path(root)
        self.indexes = [SideIndex(join, read_side(self.root / join.file, join)) for join in self.joins]

    @property
    def columns(self) -> list[str]:
        return [c for join in self.joins for c in join.columns]

    def frame(self, rows: pd.DataFrame, where: str = "input") -> pd.DataFrame:
        """`rows` with every join's columns added (joins whose columns are all there already are skipped); a
        join keyed on an earlier join's column (a history under a lookup) reads it from the rows so far."""
        pieces, present = [rows], set(rows.columns)
        for index in self.indexes:
            if all(c in present for c in index.join.columns):
                continue
            missing = [c for c in index.join.row_columns if c not in present]
            if missing:
                raise InputError(f"The input lacks column(s) {missing} needed to join the side table "
                                 f"'{index.join.table}'", where=where,
                                 fix="send the key (and time) columns the model joins on; see schema.json's "
                                     "`relations`")
            needed = [c for c in index.join.row_columns if c not in rows.columns]
            source = pd.concat([rows, *(p[[c for c in needed if c in p.columns]] for p in pieces[1:])], axis=1) \
                if needed else rows
            added = index.columns_for(source)
            pieces.append(added[[c for c in added.columns if c not in present]])  # a carried key may be all it adds
            present.update(index.join.columns)
        if len(pieces) == 1:
            return rows
        return pd.concat(pieces, axis=1)

    def record(self, record: dict[str, Any]) -> dict[str, Any]:
        """One served row with every join's columns added."""
        out = dict(record)
        for index in self.indexes:
            if all(c in record for c in index.join.columns):
                continue
            missing = [c for c in index.row_columns if c not in out]
            if missing:
                raise InputError(f"The row lacks column(s) {missing} needed to join the side table "
                                 f"'{index.join.table}'", where="input",
                                 fix="send the key (and time) columns the model joins on (GET /health lists them)")
            out.update(index.record_values(out))
        return out

    def side_bytes(self) -> int:
        return sum((self.root / join.file).stat().st_size for join in self.joins)


def read_side(path: Path, join: Join) -> pd.DataFrame:
    """One side file, as written by the run (agent/competition/relations/build.py)."""
    if not path.is_file():
        raise InputError(f"The side data of relation '{join.table}' is missing", where=str(path),
                         fix="copy the whole production folder (its side/ folder holds the joined tables), or "
                             "export the model again")
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pandas()


@lru_cache(maxsize=8)
def joiner_for(root: str, joins: tuple[Join, ...]) -> Joiner:
    """The Joiner of a model's joins, built once per process (its side data read and indexed once)."""
    return Joiner(joins, Path(root))


_WRITTEN: dict[tuple[str, tuple[str, ...]], Path] = {}  # side files already written, linked for the next model


def write_side(joins: tuple[Join, ...] | list[Join], root: Path, folder: Path) -> int:
    """Copy each join's side data from `root` into `folder` (side/ of an artifact), only the columns it keeps;
    the bytes written (the card states them apart from the model's). The production search saves many
    candidates with the same joins: a file already written is hard-linked, not written again."""
    import pyarrow.parquet as pq

    written = 0
    for join in joins:
        source, target = Path(root) / join.file, Path(folder) / join.file
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.resolve() == target.resolve():
            written += target.stat().st_size
            continue
        wanted = [KEY, *([TIME, COUNT] if join.timed else []), *join.stored()]
        key = (str(source.resolve()), tuple(wanted))
        previous = _WRITTEN.get(key)
        try:
            if previous is None or not previous.is_file():
                raise FileNotFoundError
            target.unlink(missing_ok=True)
            os.link(previous, target)
        except OSError:
            pq.write_table(pq.read_table(source, columns=wanted), target, compression="zstd")
            _WRITTEN[key] = target
        written += target.stat().st_size
    return written
