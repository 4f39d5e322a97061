"""Key values compared across tables that wrote them differently: 7, 7.0 and "7" meet; "007" meets 7 only
when the relation says its keys are numbers.

A key read from a CSV may be an integer in one table and text in another (a zero-padded code "007" beside a
plain 7), or a float because the column had a missing value. Comparing raw values would miss every match;
comparing loosely everywhere would join codes that only look alike. So a key is compared in one of two modes,
chosen by discovery with evidence and recorded with the relation (the same mode serves the model): TEXT, the
value as written (integral floats written as integers), and NUMBER, where digit strings lose their leading zeros.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

TEXT, NUMBER = "text", "number"
MODES = (TEXT, NUMBER)
SEPARATOR = "\x1f"  # between the parts of a composite key (a control character no key holds)


def canonical(value: Any, mode: str = TEXT) -> str | None:
    """One key value as compared; None for a missing one."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    text = str(value).strip()
    if not text:
        return None
    if mode == NUMBER and text.lstrip("-").isdigit():
        return str(int(text))
    return text


def column_keys(values: pd.Series, mode: str = TEXT) -> pd.Series:
    """A column's values as compared (None where missing), vectorised for the common types."""
    if pd.api.types.is_bool_dtype(values):
        return values.map(lambda v: canonical(v, mode)).astype(object)
    if pd.api.types.is_integer_dtype(values):
        present = values.notna()
        out = pd.Series(None, index=values.index, dtype=object)
        out[present] = values[present].astype("int64").astype(str)
        return out
    if pd.api.types.is_float_dtype(values):
        numbers = values.to_numpy(dtype=float)
        integral = np.isfinite(numbers) & (numbers == np.round(numbers)) & (np.abs(numbers) < 2**53)
        out = pd.Series(None, index=values.index, dtype=object)
        if integral.any():
            out[integral] = numbers[integral].astype("int64").astype(str)
        fractional = np.isfinite(numbers) & ~integral
        if fractional.any():
            out[fractional] = [repr(float(v)) for v in numbers[fractional]]
        return out
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)  # each distinct value once
    canon = np.array([canonical(v, mode) for v in uniques] + [None], dtype=object)
    return pd.Series(canon[codes], index=values.index, dtype=object)


def frame_keys(frame: pd.DataFrame, columns: list[str] | tuple[str, ...], mode: str = TEXT) -> pd.Series:
    """The (composite) key of each row: parts joined by SEPARATOR; None when any part is missing."""
    parts = [column_keys(frame[column], mode) for column in columns]
    if len(parts) == 1:
        return parts[0]
    missing = pd.concat([p.isna() for p in parts], axis=1).any(axis=1)
    joined = parts[0].fillna("").astype(str)
    for part in parts[1:]:
        joined = joined + SEPARATOR + part.fillna("").astype(str)
    return joined.where(~missing, None).astype(object)


def record_key(record: dict[str, Any], columns: list[str] | tuple[str, ...], mode: str = TEXT) -> str | None:
    """The key of one served row, as `frame_keys` gives it."""
    parts = [canonical(record.get(column), mode) for column in columns]
    return None if any(part is None for part in parts) else SEPARATOR.join(parts)


def mixed_types(values: pd.Series) -> list[str]:
    """The Python types of a text column's present values when they mix numbers and text (a key column holding
    7 and "seven" is written by two different systems: worth saying)."""
    if not pd.api.types.is_object_dtype(values):
        return []
    kinds = {type(v).__name__ for v in values.dropna().head(100_000)}
    numeric = kinds & {"int", "float", "Decimal"}
    return sorted(kinds) if numeric and (kinds - numeric) else []
