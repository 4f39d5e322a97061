"""What a production model accepts: its input columns, their kinds, allowed categories and ranges seen in training.

`schema.json` is written beside the model so a person (or `podium predict`) can check input before serving it.
Handling of surprises, documented here and in docs/production.md:
- a missing column, or a value that is not a number in a numeric column: an InputError naming column and row;
- a category never seen in training: treated like the rare categories of training (the encoder's "other"
  code, which the model learned to route), reported as a warning; `unseen="error"` makes it an InputError;
- a number outside the training range: accepted (trees extrapolate flat), reported as a warning;
- extra columns: ignored.
Side tables (docs/several-tables.md): a model whose features come from related tables lists its joins in
`relations`; callers send the key (and time) columns, and `derive` joins the side data carried in the artifact's
side/ folder, through the same index the run joined train and test with.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from agent.competition.dates import expand, expand_record, parse, part_names
from agent.competition.labels import label_key
from agent.competition.relations import Join, Joiner
from agent.competition.relations.index import joiner_for
from agent.competition.texts import expand_text_record, expand_texts
from agent.competition.texts import part_names as text_part_names
from agent.errors import InputError
from agent.records import Record
from agent.runtime.autogluon_text import AutoGluonText

NUMERIC, CATEGORICAL = "numeric", "categorical"
EXPORT_AGAIN = "export the production model again (podium run, or podium retrain)"  # the export's records' fix
MAX_LISTED_CATEGORIES = 1000  # a column with more distinct values (ids, free text) accepts any value
UNSEEN_POLICIES = ("other", "error")
MIN_LISTED_SHARE = 0.5  # more distinct values than this share of rows (and > 50): id-like, not listed


def is_missing(value: Any) -> bool:
    """None, NaN, pandas NA and empty strings are all "missing" at serving time."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip()
    return bool(isinstance(value, np.floating) and np.isnan(value))


def position(row: int, lines: Sequence[int] | None = None) -> str:
    """Where a row is, one convention for every message: in a file, its line (the header is line 1);
    in rows given in memory (a DataFrame, a list of dicts, a JSON body), its 0-based position."""
    return f"line {int(lines[row])}" if lines is not None else f"row {row}"


def file_lines(frame: pd.DataFrame, first: int = 2) -> np.ndarray:
    """The file line of each row of a table read whole from a CSV with a header (rows may since be filtered:
    their RangeIndex labels are kept)."""
    return np.asarray(frame.index, dtype=np.int64) + first


def category_key(value: Any) -> str:
    """Compare categories across CSV round trips: 1, 1.0 and '1' meet; so do True and 'true'."""
    return label_key(value)


class ColumnSchema(BaseModel):
    """One input column as seen in training."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: str
    dtype: str
    missing_seen: bool
    min: float | None = None
    max: float | None = None
    categories: tuple[str, ...] = ()
    categories_complete: bool = True  # False: too many distinct values to list, so any value is accepted


@dataclass(frozen=True)
class ValidationReport:
    """Warnings about input that was accepted: unseen categories and out-of-range numbers, by column."""

    unseen: dict[str, int] = field(default_factory=dict)
    out_of_range: dict[str, int] = field(default_factory=dict)

    def messages(self) -> list[str]:
        notes = [f"{count} value(s) of '{name}' were never seen in training: treated like rare categories"
                 for name, count in self.unseen.items()]
        notes += [f"{count} value(s) of '{name}' lie outside the training range: accepted"
                  for name, count in self.out_of_range.items()]
        return notes


class Schema(Record):
    """The input contract of a production model: schema.json, a typed record (agent/records.py)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True)
    FORMAT: ClassVar[str] = "podium.schema"
    TITLE: ClassVar[str] = "input schema (schema.json)"
    FIX: ClassVar[str] = EXPORT_AGAIN

    unseen: Literal["other", "error"] = Field("other", alias="unseen_categories")
    columns: tuple[ColumnSchema, ...]
    # date columns callers send, each with the format it is written in; the models read its parts, listed
    # among `columns` (agent/competition/dates.py), so `derive` turns the one into the others
    dates: dict[str, str] = Field(default_factory=dict)
    # free-text columns callers send, each with the words the models read in it: `derive` adds their parts
    # (lengths and one indicator per word, agent/competition/texts.py) beside the column, listed among `columns`
    texts: dict[str, list[str]] = Field(default_factory=dict)
    # AutoGluon's text features of the text columns callers send, for its models served without it
    # (agent/runtime/autogluon_text.py): `derive` adds them, listed among `columns`
    autogluon_text: AutoGluonText | None = None
    # side tables joined before the models read a row: each join's keys, columns and defining SQL; its side
    # data lies in the folder beside schema.json (`root`), under side/
    relations: tuple[Join, ...] = ()
    _root: Path | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:  # where the side data lies is no part of the contract
        return type(other) is type(self) and all(getattr(self, f) == getattr(other, f) for f in type(self).model_fields)

    def __hash__(self) -> int:
        return hash(self.model_dump_json())

    def dumped(self) -> dict[str, Any]:
        """schema.json: `relations` and `texts` only when the model joins side tables or reads words, so a model
        without them stays readable by a podium from before them."""
        data = super().dumped()
        for optional in ("relations", "texts", "autogluon_text"):
            if not data.get(optional):
                data.pop(optional, None)
        return data

    @classmethod
    def read(cls, path) -> Self:
        """schema.json, knowing where its side data lies (side/ beside it)."""
        schema = super().read(path)
        schema._root = Path(path).parent
        return schema

    def with_root(self, root: Path | str | None) -> Schema:
        """This schema reading its side data from `root` (the run's relations/ folder before export)."""
        self._root = Path(root) if root is not None else None
        return self

    @property
    def root(self) -> Path | None:
        return self._root

    def joiner(self) -> Joiner | None:
        """The joins with their side data in memory: loaded once per process (serving loads it at start)."""
        if not self.relations:
            return None
        if self._root is None:
            raise InputError("This schema joins side tables but does not know where their data is",
                             fix="load the model with load_model(folder), which finds side/ beside schema.json")
        return joiner_for(str(self._root), self.relations)

    @property
    def names(self) -> list[str]:
        return list(self._names)

    @cached_property
    def _names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @cached_property
    def value_checks(self) -> tuple[tuple[str, bool, frozenset[str] | None], ...]:
        """Per column, what a served value is checked against: its name, whether it is numeric, and the
        categories seen in training (None: any value goes), in plain tuples for the per-value loop."""
        return tuple((c.name, c.kind == NUMERIC, frozenset(c.categories) if c.categories_complete else None)
                     for c in self.columns)

    @cached_property
    def input_names(self) -> list[str]:
        """The columns callers send: the schema's, with each date's parts given as the date itself, and the
        keys (and time) of the joins instead of the columns they bring."""
        parts = {name: column for column, fmt in self.dates.items() for name in part_names(column, fmt)}
        parts |= self.text_parts
        joined = {c for join in self.relations for c in join.columns}
        names = [n for n in self.names if n not in joined] + \
            [c for j in self.relations for c in j.row_columns if c not in joined]  # not a key a lookup brings
        sources = self.autogluon_text.columns if self.autogluon_text else []  # n-grams read several columns
        return list(dict.fromkeys([parts.get(name, name) for name in names] + sources))

    @cached_property
    def text_parts(self) -> dict[str, str]:
        """Each number the models read from a text column, with that column (the first, for AutoGluon's n-grams
        of several)."""
        words = {name: column for column, names in self._text_part_names.items() for name in names}
        gluon = {name: columns[0] for name, columns in self.autogluon_text.sources.items()} \
            if self.autogluon_text else {}
        return words | gluon

    @cached_property
    def table_names(self) -> list[str]:
        """The columns as a run's tables hold them (dates in parts, joined columns in place): the schema's, without
        the parts read from text columns, which `derive` adds, and with the text columns AutoGluon's text features
        are computed from."""
        names = [n for n in self.names if n not in self.text_parts]
        return names + [c for c in (self.autogluon_text.columns if self.autogluon_text else []) if c not in names]

    def derive(self, rows, where: str = "input", lines: Sequence[int] | None = None):
        """Rows as sent (a dict, a list of dicts or a DataFrame) as the models read them: the side tables'
        columns joined on, then each date column replaced by its parts and each text column's parts added. A
        present value that is no date in its column's format is an error naming its row (its file line with
        `lines`)."""
        if self.relations:
            rows = self._joined(rows, where)
        return self.read_texts(self._dated(rows, where, lines))

    def _dated(self, rows, where: str, lines: Sequence[int] | None):
        if not self.dates:
            return rows
        if isinstance(rows, dict):
            return expand_record(rows, self.dates, 0)
        if isinstance(rows, pd.DataFrame):
            for column, fmt in self.dates.items():
                if column in rows.columns:
                    _refuse_non_dates(rows[column], column, fmt, where, lines)
            return expand(rows, {c: f for c, f in self.dates.items() if c in rows.columns})
        return [expand_record(row, self.dates, r) if isinstance(row, dict) else row for r, row in enumerate(rows)]

    def read_texts(self, rows):
        """Rows with each text column's parts added (rows whose dates and joins are already in place): podium's
        words, then AutoGluon's text features."""
        rows = self._words(rows)
        if self.autogluon_text is None:
            return rows
        if isinstance(rows, dict):
            return rows | self.autogluon_text.values(rows)
        if isinstance(rows, pd.DataFrame):
            return pd.concat([rows, self.autogluon_text.frame(rows)], axis=1)
        return [row | self.autogluon_text.values(row) if isinstance(row, dict) else row for row in rows]

    def _words(self, rows):
        if not self.texts:
            return rows
        names = self._text_part_names
        if isinstance(rows, dict):
            return expand_text_record(rows, self.texts, names)
        if isinstance(rows, pd.DataFrame):
            return expand_texts(rows, {c: w for c, w in self.texts.items() if c in rows.columns})
        return [expand_text_record(row, self.texts, names) if isinstance(row, dict) else row for row in rows]

    @cached_property
    def _text_part_names(self) -> dict[str, list[str]]:
        return {column: text_part_names(column, words) for column, words in self.texts.items()}

    def _joined(self, rows, where: str):
        joiner = self.joiner()
        if isinstance(rows, dict):
            return joiner.record(rows)
        if isinstance(rows, pd.DataFrame):
            return joiner.frame(rows, where)
        return [joiner.record(row) if isinstance(row, dict) else row for row in rows]

    @classmethod
    def infer(cls, frame: pd.DataFrame, unseen: str = "other", dates: dict[str, str] | None = None,
              relations: dict[str, Any] | None = None, texts: dict[str, list[str]] | None = None) -> Schema:
        """Learn the schema from the training features: numbers stay numbers, everything else is a category;
        `dates` are the date columns the frame holds expanded into parts (agent/competition/dates.py);
        `relations` the run's joins (`root`: their side data, `joins`), kept where the frame has their columns;
        `texts` the text columns the frame holds with their parts added (agent/competition/texts.py)."""
        if unseen not in UNSEEN_POLICIES:
            raise InputError(f"Unknown handling of unseen categories '{unseen}'", fix="use 'other' or 'error'")
        kept = {column: fmt for column, fmt in (dates or {}).items()
                if any(name in frame.columns for name in part_names(column, fmt))}
        joins = [Join.model_validate(j) for j in (relations or {}).get("joins", [])]
        used = [j for j in joins if j.keeping(frame.columns).columns]
        keys = {row for j in used for row, _ in j.on}  # a lookup's column keying a history it carries stays
        joins = [j.keeping(set(frame.columns) | keys) for j in joins]
        schema = cls(columns=tuple(_infer_column(name, frame[name]) for name in frame.columns), unseen=unseen,
                     dates=kept, relations=tuple(j for j in joins if j.columns),
                     texts={c: list(w) for c, w in (texts or {}).items() if c in frame.columns})
        return schema.with_root((relations or {}).get("root"))

    LEGACY_FORMAT: ClassVar[str] = "podium-schema/1"

    def check_columns(self, present, where: str = "input") -> None:
        """Every input column must be present; extra columns are ignored."""
        present = set(present)
        missing = [name for name in self.names if name not in present]
        if missing:
            raise InputError(f"The input lacks column(s) {missing[:10]}" + (" ..." if len(missing) > 10 else ""),
                             where=where, fix=f"send every column of schema.json ({len(self.names)} in all); "
                             "use an empty value for unknowns")

    def validate(self, frame: pd.DataFrame, where: str = "input", unseen: str | None = None,
                 lines: Sequence[int] | None = None) -> ValidationReport:
        """Check a whole table: raise on missing columns, wrong types and infinite numbers, report unseen
        categories and ranges. `lines` (a file's line per row) makes errors name lines, not positions.

        `unseen` overrides the schema's policy for this call ("error" makes unseen categories an InputError).
        """
        self.check_columns(frame.columns, where)
        unseen_counts: dict[str, int] = {}
        first_unseen: dict[str, int] = {}
        out_of_range: dict[str, int] = {}
        for column in self.columns:
            values = frame[column.name]
            if column.kind == NUMERIC:
                numbers = to_numbers(values, column.name, where, lines)
                _refuse_infinite(numbers, column.name, where, lines)
                outside = int(((numbers < column.min) | (numbers > column.max)).sum()) if column.min is not None else 0
                if outside:
                    out_of_range[column.name] = outside
            elif column.categories_complete:
                allowed = set(column.categories)
                new = [i for i, v in enumerate(values) if not is_missing(v) and category_key(v) not in allowed]
                if new:
                    unseen_counts[column.name], first_unseen[column.name] = len(new), new[0]
        if unseen_counts and (unseen or self.unseen) == "error":
            name, count = next(iter(unseen_counts.items()))
            row = first_unseen[name]
            raise InputError(f"{count} value(s) of column '{name}' were never seen in training, first "
                             f"{frame[name].iloc[row]!r} at {position(row, lines)}",
                             where=where, fix=f"use one of the categories listed for '{name}' in schema.json, "
                             "or leave the value empty (missing)")
        return ValidationReport(unseen_counts, out_of_range)

    def conform(self, frame: pd.DataFrame, where: str = "input") -> pd.DataFrame:
        """The schema's columns in their kinds: numbers as floats, categories as objects with NaN for missing (the
        parts of text columns only where `frame` holds them)."""
        out = {}
        for column in self.columns:
            if column.name in self.text_parts and column.name not in frame.columns:
                continue
            values = frame[column.name]
            if column.kind == NUMERIC:
                out[column.name] = to_numbers(values, column.name, where)
            else:
                out[column.name] = values.astype(object).where(~values.map(is_missing), np.nan)
        return pd.DataFrame(out, index=frame.index)


def to_numbers(values: pd.Series, name: str, where: str, lines: Sequence[int] | None = None) -> pd.Series:
    """Parse a numeric column; a value that is present but not a number is an error naming its row
    (its file line when `lines` is given)."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    present = values.notna()
    if present.any():
        present[present] = ~values[present].map(is_missing).to_numpy(dtype=bool)  # blanks are missing
    numbers = pd.to_numeric(values.where(present), errors="coerce")
    bad = present & numbers.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"Column '{name}' expects numbers but holds {int(bad.sum())} non-numeric value(s), "
                         f"first {values.iloc[row]!r} at {position(row, lines)}", where=where,
                         fix=f"send numbers (or an empty value for missing) in '{name}'")
    return numbers.astype(float)


def _refuse_non_dates(values: pd.Series, column: str, fmt: str, where: str, lines: Sequence[int] | None) -> None:
    present = values.notna() & ~values.map(is_missing)
    bad = present & parse(values, fmt).isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"Column '{column}' expects dates written as {fmt!r} but holds {int(bad.sum())} other "
                         f"value(s), first {values.iloc[row]!r} at {position(row, lines)}", where=where,
                         fix=f"write the dates of '{column}' as in training ({fmt}), or leave the value empty")


def _refuse_infinite(numbers: pd.Series, name: str, where: str, lines: Sequence[int] | None) -> None:
    """Infinity is no input (standard JSON cannot even carry it): refused like `podium serve` refuses it."""
    infinite = np.isinf(numbers.to_numpy(dtype=float))
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise InputError(f"Column '{name}' holds an infinite number ({numbers.iloc[row]:g}) at "
                         f"{position(row, lines)}; {int(infinite.sum())} infinite value(s) in all", where=where,
                         fix=f"send a finite number in '{name}', or an empty value for missing")


def _infer_column(name: str, values: pd.Series) -> ColumnSchema:
    missing_seen = bool(values.isna().any())
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype(float)
        finite = numbers[np.isfinite(numbers)]
        low, high = (float(finite.min()), float(finite.max())) if len(finite) else (None, None)
        return ColumnSchema(name=name, kind=NUMERIC, dtype=str(values.dtype), missing_seen=missing_seen, min=low,
                            max=high)
    counts = values.dropna().map(category_key).value_counts(sort=True)
    present = int(values.notna().sum())
    complete = len(counts) <= MAX_LISTED_CATEGORIES and (len(counts) <= 50 or len(counts) <= MIN_LISTED_SHARE * present)
    return ColumnSchema(name=name, kind=CATEGORICAL, dtype=str(values.dtype), missing_seen=missing_seen,
                        categories=tuple(counts.index) if complete else (), categories_complete=complete)
