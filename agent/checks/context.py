"""What every data check reads: the competition, its tables, the thresholds, and column kinds computed once.

It also holds the checks' time: `deadline` (None for no bound) and the share of it
the running check may use, and collects the `Bound` records of checks that skipped or sampled work.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from agent.checks.report import Bound
from agent.competition.dates import expand, expanded_names
from agent.competition.inference import Competition
from agent.config import QualitySettings
from agent.deadline import Deadline

NUMERIC, TEXT, DATETIME = "numeric", "text", "datetime"


def dtype_kind(dtype) -> str:
    """numeric (bool counts: models see 0/1), datetime, or text (strings, categories, mixed objects)."""
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return NUMERIC
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return DATETIME
    return TEXT


def column_kind(series: pd.Series) -> str:
    """The kind of a column, which its dtype alone decides (see `dtype_kind`)."""
    return dtype_kind(series.dtype)


def frame_kinds(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, str]:
    """`column_kind` of many columns from the frame's dtypes: one test per distinct dtype, not per column, so
    a table with tens of thousands of columns costs no more than its handful of dtypes."""
    dtypes = dict(zip(frame.columns, frame.dtypes, strict=True))
    by_dtype: dict = {}
    kinds = {}
    for column in columns:
        dtype = dtypes[column]
        if dtype not in by_dtype:
            by_dtype[dtype] = dtype_kind(dtype)
        kinds[column] = by_dtype[dtype]
    return kinds


def sample_positions(length: int, rows: int, seed: int) -> np.ndarray:
    """At most `rows` positions in increasing order, drawn without replacement: slow checks cost the same on any
    table."""
    if length <= rows:
        return np.arange(length)
    return np.sort(np.random.default_rng(seed).choice(length, size=rows, replace=False))


@dataclass
class CheckContext:
    competition: Competition
    train: pd.DataFrame
    test: pd.DataFrame
    settings: QualitySettings
    seed: int = 0
    n_jobs: int = 1
    cache: dict = field(default_factory=dict)  # work shared between checks, e.g. the leakage sample
    deadline: Deadline | None = None  # by which all checks must be done; None: no bound
    check_deadline: Deadline | None = None  # the running check's share of it, set by run_checks
    bounds: list[Bound] = field(default_factory=list)  # what checks skipped or sampled, for the report
    relations: dict = field(default_factory=dict)  # the relations joined in, as recorded (agent/competition/relations)

    def __post_init__(self) -> None:
        if self.competition.dates:  # the checks examine what the models read: a date's parts, not its text
            self.train = expand(self.train, self.competition.dates)
            self.test = expand(self.test, self.competition.dates)

    @property
    def features(self) -> list[str]:
        return expanded_names(list(self.competition.features), self.competition.dates)

    @cached_property
    def kinds(self) -> dict[str, str]:
        return frame_kinds(self.train, self.features)

    @cached_property
    def test_kinds(self) -> dict[str, str]:
        return frame_kinds(self.test, self.features)

    @cached_property
    def text_features(self) -> list[str]:
        """Features read as text in train and test alike (a mixed pair is the type check's business)."""
        return [c for c in self.features if self.kinds[c] == TEXT and self.test_kinds[c] == TEXT]

    @cached_property
    def labelled(self) -> pd.DataFrame:
        """Train rows with a target, in file order (row order matters to one check)."""
        return self.train[self.train[self.competition.target].notna()]

    def out_of_time(self) -> bool:
        """Has the running check used its share of the deadline (or, outside run_checks, the deadline)?"""
        end = self.check_deadline if self.check_deadline is not None else self.deadline
        return end is not None and end.passed()

    def sample_columns(self, check: str, columns: Sequence[str], unit: str = "columns") -> list[str]:
        """The columns a costly per-column check examines. Under a deadline, at most `settings.max_columns` of
        them, a seeded random sample in table order, recorded as a bound; without one, all of them: with no
        time limit there is no reason to look at less."""
        chosen = self._capped(columns)
        if len(chosen) < len(columns):
            self.bounds.append(self._column_bound(check, chosen, len(columns), unit, stopped=False))
        return chosen

    def columns_for(self, check: str, columns: Sequence[str], unit: str = "columns") -> Iterator[str]:
        """`sample_columns`, then one column at a time until the check's share of the deadline is used: a loop
        over columns stays within its time on any table. What was left out is recorded when the loop ends."""
        chosen = self._capped(columns)
        done = 0
        try:
            for column in chosen:
                if self.out_of_time():
                    break
                yield column
                done += 1
        finally:
            if done < len(columns):
                self.bounds.append(self._column_bound(check, chosen[:done], len(columns), unit,
                                                      stopped=done < len(chosen)))

    def note_rows(self, check: str, used: int, total: int, unit: str, setting: str) -> None:
        """Record a row sample a setting imposes on every run (not the deadline), once per check and unit."""
        if used < total and not any(b.check == check and b.unit == unit for b in self.bounds):
            self.bounds.append(Bound(check, "sampled", f"at most {setting} rows", unit, used, total,
                                     deadline=False, seed=self.seed))

    def _capped(self, columns: Sequence[str]) -> list[str]:
        cap = self.settings.max_columns
        if self.deadline is None or len(columns) <= cap:
            return list(columns)
        return [columns[i] for i in sample_positions(len(columns), cap, self.seed)]

    def _column_bound(self, check: str, examined: list[str], total: int, unit: str, stopped: bool) -> Bound:
        reasons = []
        if total > self.settings.max_columns and self.deadline is not None:
            reasons.append(f"at most max_columns={self.settings.max_columns:,} under a deadline, a seeded sample")
        if stopped:
            reasons.append("its share of the deadline ran out")
        return Bound(check, "sampled", "; ".join(reasons), unit, len(examined), total, seed=self.seed,
                     columns=tuple(examined))
