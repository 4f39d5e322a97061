"""Dates are dates: found in a competition's tables, parsed with the format they are written in, and turned into
the numbers models learn from (date parts and elapsed days), in training and in serving alike.

A date read as text is a category with a value per row: it cannot generalise, and a model built on it gives up
most of what the date says (the season, the weekday, how far along in time). `detect_dates` finds the columns
whose values parse as dates under one format, `expand` replaces each by its parts, and the production model
records the same formats so that a served row's date becomes the same numbers (`expand_record`).
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from agent.errors import InputError

DATETIME = "datetime"  # the "format" of a column that already holds datetimes (Parquet, a database)
MIN_PARSED_SHARE = 0.98  # of a column's present values, to call it a date
SAMPLE = 500  # values a format is guessed from, and checked on, before the whole column is parsed
EPOCH = pd.Timestamp("1970-01-01")
DAY = pd.Timedelta(days=1)


def detect_dates(train: pd.DataFrame, test: pd.DataFrame, columns: list[str]) -> dict[str, str]:
    """The columns of `columns` that hold dates in train and test, each with the format it is written in."""
    found = {}
    kinds = train.dtypes  # read once: a table can have 50,000 columns
    textual = [c for c in columns if kinds[c].kind in "OSUM" or pd.api.types.is_string_dtype(kinds[c])]
    for column in textual:  # numbers are never dates: only text (or datetime) columns are read
        fmt = date_format(pd.concat([train[column], test[column]], ignore_index=True))
        if fmt is not None:
            found[column] = fmt
    return found


def date_format(values: pd.Series) -> str | None:
    """The strftime format every present value parses with (DATETIME for datetimes), or None: not a date.

    Numbers are never dates here (a year column stays a number: its order is already what a model needs), and
    a format must carry a day or a time, so that a column of codes such as "2017" is no date either."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return DATETIME
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return None
    present = values.dropna().astype(str).str.strip()
    present = present[present != ""]
    if present.empty:
        return None
    sample = present.sample(min(SAMPLE, len(present)), random_state=0) if len(present) > SAMPLE else present
    from pandas.tseries.api import guess_datetime_format

    for dayfirst in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            guesses = pd.Series([guess_datetime_format(v, dayfirst=dayfirst) for v in sample.head(50)]).dropna()
        if guesses.empty:
            continue
        fmt = str(guesses.mode().iloc[0])
        if "%d" not in fmt and "%H" not in fmt:
            continue
        if _parsed(sample, fmt).notna().mean() >= MIN_PARSED_SHARE and \
                _parsed(present, fmt).notna().mean() >= MIN_PARSED_SHARE:
            return fmt
    return None


def _parsed(values: pd.Series, fmt: str) -> pd.Series:
    if fmt == DATETIME:
        return pd.to_datetime(values, errors="coerce")
    parsed = pd.to_datetime(values.astype(str).str.strip(), format=fmt, errors="coerce", utc="%z" in fmt)
    return parsed.dt.tz_convert("UTC").dt.tz_localize(None) if getattr(parsed.dt, "tz", None) is not None else parsed


def parse(values: pd.Series, fmt: str) -> pd.Series:
    """The column as datetimes (NaT where missing or not a date in `fmt`)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.to_datetime(values)
        return parsed.dt.tz_convert("UTC").dt.tz_localize(None) if getattr(parsed.dt, "tz", None) is not None \
            else parsed
    text = values.astype(object).where(values.notna(), None)
    parsed = _parsed(pd.Series(text, index=values.index).fillna(""), fmt)
    return parsed


def part_names(column: str, fmt: str) -> list[str]:
    """The numbers one date column becomes: its calendar parts, the hour where the format has one, and the
    days since 1970 (elapsed time: a trend's axis)."""
    parts = ["year", "month", "day", "dayofweek", "dayofyear"]
    if fmt == DATETIME or "%H" in fmt:
        parts.append("hour")
    return [f"{column}.{part}" for part in parts] + [f"{column}.days"]


def expanded_names(columns: list[str], dates: dict[str, str]) -> list[str]:
    """`columns` as `expand` leaves them: each date column replaced by its parts' names."""
    return [name for column in columns
            for name in (part_names(column, dates[column]) if column in dates else [column])]


def expand(frame: pd.DataFrame, dates: dict[str, str]) -> pd.DataFrame:
    """`frame` with each date column replaced, in place in the column order, by its parts (floats, NaN where
    the date is missing or unreadable)."""
    if not dates:
        return frame
    pieces = []
    for column in frame.columns:
        if column not in dates:
            pieces.append(frame[[column]])
            continue
        moments = parse(frame[column], dates[column])
        values = {}
        for name in part_names(column, dates[column]):
            part = name.rsplit(".", 1)[1]
            if part == "days":
                values[name] = (moments - EPOCH) / DAY
            elif part == "dayofweek":
                values[name] = moments.dt.dayofweek.astype(float)
            else:
                values[name] = getattr(moments.dt, part).astype(float)
        pieces.append(pd.DataFrame(values, index=frame.index))
    return pd.concat(pieces, axis=1)


def expand_record(record: dict[str, Any], dates: dict[str, str], row: int = 0) -> dict[str, Any]:
    """One served row with each date replaced by its parts, as `expand` gives them; a value that is present but
    not a date in the column's format is an error naming the column and the format."""
    out = dict(record)
    for column, fmt in dates.items():
        if column not in out:
            continue  # the schema check names what is missing
        moment = _moment(out.pop(column), column, fmt, row)
        for name in part_names(column, fmt):
            part = name.rsplit(".", 1)[1]
            out[name] = math.nan if moment is None else _part(moment, part)
    return out


def timestamp(value: Any, column: str, fmt: str, row: int = 0) -> pd.Timestamp | None:
    """One served value as a moment (None when missing); an InputError when it is no date in `fmt`."""
    return _moment(value, column, fmt, row)


def _moment(value: Any, column: str, fmt: str, row: int) -> pd.Timestamp | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == "":
        return None
    if isinstance(value, dt.datetime | pd.Timestamp | np.datetime64):
        moment = pd.Timestamp(value)
    else:
        try:
            moment = pd.Timestamp(dt.datetime.strptime(str(value).strip(), fmt)) if fmt != DATETIME \
                else pd.Timestamp(value)
        except ValueError:
            raise InputError(f"Column '{column}' expects a date written as {fmt!r} but got {value!r}",
                             where=f"row {row}", fix=f"write the dates of '{column}' as in training ({fmt}), or "
                                                     "leave the value empty (missing)") from None
    return moment.tz_convert("UTC").tz_localize(None) if moment.tzinfo is not None else moment


def _part(moment: pd.Timestamp, part: str) -> float:
    if part == "days":
        return (moment - EPOCH) / DAY
    return float(getattr(moment, part))
