"""A tiny learned encoder from raw rows to the float matrix the compact models read.

Numbers pass through (missing stays NaN); each categorical column keeps a code per frequent category, one
"other" code for rare and unseen ones, and NaN for missing values. Pure dicts and numpy, so one row
costs microseconds: a dict row walks the columns once, a big table is encoded column by column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from agent.errors import InputError
from agent.runtime.schema import CATEGORICAL, Schema, category_key, is_missing, position, to_numbers

SMALL_FRAME_ROWS = 16  # below this a DataFrame goes through the per-row dict path, which is faster


@dataclass
class Encoder:
    """Maps raw rows to floats; `codes[column]` lists the frequent categories in code order. A missing category
    is NaN unless `missing_code` gives its column a code (a model that was trained on missing values filled in)."""

    schema: Schema
    codes: dict[str, list[str]]
    other_code: dict[str, int]
    missing_code: dict[str, float] = field(default_factory=dict)
    _lookup: list[dict[Any, float] | None] = field(default_factory=list, repr=False)
    _index: list[tuple[pd.Index, np.ndarray] | None] = field(default_factory=list, repr=False)
    _complete: list[bool] = field(default_factory=list, repr=False)
    _names: tuple[str, ...] = field(default=(), repr=False)
    _missing: list[float] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._lookup, self._index, self._complete = [], [], []
        self._names = tuple(self.schema.names)  # read once per row and column on the serving path
        self._missing = [float(self.missing_code.get(name, math.nan)) for name in self._names]
        for column in self.schema.columns:
            if column.kind != CATEGORICAL:
                self._lookup.append(None)
                self._index.append(None)
                self._complete.append(True)
                continue
            frequent = self.codes.get(column.name, [])
            other = float(self.other_code.get(column.name, len(frequent)))
            lookup: dict[Any, float] = {key: other for key in column.categories}
            lookup.update({key: float(code) for code, key in enumerate(frequent)})
            self._lookup.append(lookup)
            self._index.append((pd.Index(list(lookup), dtype=object), np.append(list(lookup.values()), np.nan)))
            self._complete.append(column.categories_complete)

    @classmethod
    def fit(cls, frame: pd.DataFrame, schema: Schema, max_codes: int = 64, min_count: int = 5) -> Encoder:
        """Learn codes from the training features alone (no target: nothing leaks from labels)."""
        codes, other = {}, {}
        for column in schema.columns:
            if column.kind != CATEGORICAL:
                continue
            counts = frame[column.name].dropna().map(category_key).value_counts(sort=True)
            frequent = [str(k) for k, n in counts.items() if n >= min_count][:max_codes]
            codes[column.name] = frequent
            other[column.name] = len(frequent)
        return cls(schema, codes, other)

    @property
    def n_features(self) -> int:
        return len(self.schema.columns)

    @property
    def categorical_indices(self) -> list[int]:
        return [i for i, c in enumerate(self.schema.columns) if c.kind == CATEGORICAL]

    def to_dict(self) -> dict[str, Any]:
        data = {"format": "podium-encoder/1", "codes": self.codes, "other_code": self.other_code}
        if self.missing_code:  # only where it is used, so an encoder without stays readable by older podiums
            data["missing_code"] = self.missing_code
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], schema: Schema) -> Encoder:
        return cls(schema, {k: list(v) for k, v in data["codes"].items()}, dict(data["other_code"]),
                   {k: float(v) for k, v in data.get("missing_code", {}).items()})

    # --- serving ---------------------------------------------------------------------------------------------

    def encode(self, rows) -> tuple[np.ndarray, int]:
        """Rows (dict, list of dicts or DataFrame) to a float matrix; also how many unseen categories were met."""
        if isinstance(rows, dict):
            return self.encode_records([rows])
        if isinstance(rows, pd.DataFrame):
            if len(rows) <= SMALL_FRAME_ROWS:
                self.schema.check_columns(rows.columns)
                return self.encode_records(rows.to_dict("records"))
            return self.encode_frame(rows)
        if isinstance(rows, list | tuple) and all(isinstance(r, dict) for r in rows):
            return self.encode_records(list(rows))
        raise InputError(f"Cannot predict from a {type(rows).__name__}",
                         fix="pass a dict (one row), a list of dicts or a pandas DataFrame with the original columns")

    def encode_records(self, records: list[dict[str, Any]]) -> tuple[np.ndarray, int]:
        out = np.empty((len(records), self.n_features), dtype=float)
        unseen = 0
        for r, record in enumerate(records):
            for j, name in enumerate(self._names):
                try:
                    value = record[name]
                except KeyError:
                    self.schema.check_columns(record.keys(), where=position(r))
                    raise
                lookup = self._lookup[j]
                if lookup is None:
                    out[r, j] = _number(value, name, r)
                    continue
                code = lookup.get(value) if isinstance(value, str) else None
                if code is None:
                    if is_missing(value):
                        code = self._missing[j]
                    else:
                        code = lookup.get(category_key(value))
                        if code is None:
                            code = self._unseen(j, value, r)
                            unseen += self._complete[j]
                out[r, j] = code
        return out, unseen

    def encode_frame(self, frame: pd.DataFrame) -> tuple[np.ndarray, int]:
        self.schema.check_columns(frame.columns)
        out = np.empty((len(frame), self.n_features), dtype=float)
        unseen = 0
        for j, column in enumerate(self.schema.columns):
            values = frame[column.name]
            lookup = self._lookup[j]
            if lookup is None:
                out[:, j] = to_numbers(values, column.name, "input").to_numpy()
                continue
            index, code_values = self._index[j]
            codes = code_values[index.get_indexer(values.to_numpy(dtype=object))]  # raw strings hit directly
            retry = np.isnan(codes) & values.notna().to_numpy()
            if retry.any():  # the few values needing normalisation (1 vs "1", " a"), blanks and unseen ones
                rows = np.flatnonzero(retry)
                for row, value in zip(rows, values.iloc[rows], strict=True):
                    if is_missing(value):
                        continue
                    code = lookup.get(category_key(value))
                    if code is None:
                        code = self._unseen(j, value, int(row))
                        unseen += self._complete[j]
                    codes[row] = code
            if not math.isnan(self._missing[j]):  # what is still NaN here was missing
                codes[np.isnan(codes)] = self._missing[j]
            out[:, j] = codes
        return out, unseen

    def _unseen(self, j: int, value: Any, row: int) -> float:
        """An unseen category gets the "other" code of rare categories (or, if asked, is an error)."""
        column = self.schema.columns[j]
        if self._complete[j] and self.schema.unseen == "error":
            raise InputError(f"Column '{column.name}' holds {value!r}, a category never seen in training",
                             where=position(row), fix=f"use one of the categories of '{column.name}' listed in "
                             "schema.json, or an empty value (missing)")
        return float(self.other_code.get(column.name, len(self.codes.get(column.name, []))))


def _number(value: Any, name: str, row: int) -> float:
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        if is_missing(value):
            return math.nan
        raise InputError(f"Column '{name}' expects a number but got {value!r}", where=position(row),
                         fix=f"send a number (or an empty value for missing) in '{name}'") from None
