"""The SQL of each relation's features: what a strong competitor would write by hand, per kind of column.

A lookup brings the side table's columns in, prefixed `<table>.`. A history is aggregated per key: the count
of events; mean, min, max, standard deviation, sum and last value of each number; distinct count and most
frequent value of each category; only the distinct count of a column named as an identifier (`user_id`,
`userId`: the mean of ids is no quantity). With an event time, the aggregates run over each key's events in time
order, one row per key and moment (the running aggregates), and the rows read the last moment strictly before
their own time; the days since that moment and the counts in recent windows come from the same rows
(agent/competition/relations/index.py). The side table in the SQL carries `__key` (the key as compared,
keys.py), `__seq` (its row order) and `__t` (the event time in seconds since 1970).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from agent.competition.dates import date_format
from agent.competition.relations.spec import COUNT, KEY, TIME

MAX_CATEGORIES = 1000  # a text column with more distinct values (free text, ids) is not a category to aggregate
NUMBER_AGGREGATES = (("mean", "avg({c})"), ("min", "min({c})"), ("max", "max({c})"), ("std", "stddev_samp({c})"),
                     ("sum", "sum({c})"))
CATEGORY_AGGREGATES = (("distinct", "count(DISTINCT {c})"), ("mode", "mode({c})"))
IDENTIFIER_AGGREGATES = (("distinct", "count(DISTINCT {c})"),)
IDENTIFIER = re.compile(r"(?:^|[^A-Za-z])[iI][dD]$|[a-z0-9]I[dD]$")  # id, user_id, USER_ID, userId; not "paid"


def q(name: str) -> str:
    """A name as SQL: double-quoted, inner quotes doubled."""
    return '"' + str(name).replace('"', '""') + '"'


@dataclass(frozen=True)
class Column:
    """One side column worth using, and as what."""

    name: str
    kind: str  # "number" or "category"
    date_format: str | None = None  # a date written as text: read as days since 1970
    identifier: bool = False  # named as an id: a history counts its distinct values only (a lookup brings it in)


def usable_columns(frame: pd.DataFrame, exclude: set[str]) -> tuple[list[Column], list[str]]:
    """The side table's columns a model can use (numbers, dates as numbers, categories with few values), and
    those left out with the reason."""
    usable, left_out = [], []
    for name in frame.columns:
        if name in exclude or str(name).startswith("__"):
            continue
        values, identifier = frame[name], bool(IDENTIFIER.search(str(name)))
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values) or \
                pd.api.types.is_datetime64_any_dtype(values):
            usable.append(Column(name, "number", identifier=identifier))
        elif (fmt := date_format(values)) is not None:
            usable.append(Column(name, "number", fmt))
        elif values.nunique(dropna=True) <= MAX_CATEGORIES:
            usable.append(Column(name, "category", identifier=identifier))
        else:
            left_out.append(f"{name} (text with over {MAX_CATEGORIES} distinct values)")
    return usable, left_out


def lookup_sql(table: str, columns: list[Column]) -> tuple[str, list[str]]:
    """One row per key (the first, where a key repeats), its columns prefixed with the table's name."""
    names = [f"{table}.{c.name}" for c in columns]
    selected = ", ".join([KEY, *(f"{q(c.name)} AS {q(n)}" for c, n in zip(columns, names, strict=True))])
    sql = (f"SELECT {selected} FROM {q(table)} WHERE {KEY} IS NOT NULL "
           f"QUALIFY row_number() OVER (PARTITION BY {KEY} ORDER BY __seq) = 1")
    return sql, names


def _pairs(column: Column) -> tuple[tuple[str, str], ...]:
    if column.identifier:
        return IDENTIFIER_AGGREGATES
    return NUMBER_AGGREGATES if column.kind == "number" else CATEGORY_AGGREGATES


def _aggregates(table: str, columns: list[Column], over: str = "") -> tuple[list[str], list[str]]:
    expressions, names = [], []
    for column in columns:
        c = q(column.name)
        for suffix, template in _pairs(column):
            expressions.append(template.format(c=c) + over)
            names.append(f"{table}.{column.name}.{suffix}")
        if column.kind == "number" and not column.identifier:
            expressions.append((f"last_value({c})" + over) if over else f"arg_max({c}, __seq)")
            names.append(f"{table}.{column.name}.last")
    return expressions, names


def history_sql(table: str, columns: list[Column]) -> tuple[str, list[str]]:
    """One row per key: the count of its events and each column's aggregates over all of them."""
    expressions, names = _aggregates(table, columns)
    selected = ", ".join([KEY, f"count(*) AS {q(table + '.count')}",
                          *(f"{e} AS {q(n)}" for e, n in zip(expressions, names, strict=True))])
    sql = f"SELECT {selected} FROM {q(table)} WHERE {KEY} IS NOT NULL GROUP BY {KEY}"
    return sql, [f"{table}.count", *names]


def timed_history_sql(table: str, columns: list[Column]) -> tuple[str, list[str]]:
    """One row per key and moment: the running count and aggregates of the key's events up to that moment
    (events at one moment all included: the last of them in table order carries the running values)."""
    window = (f" OVER (PARTITION BY {KEY} ORDER BY {TIME}, __seq ROWS BETWEEN UNBOUNDED PRECEDING AND "
              "CURRENT ROW)")
    expressions, names = _aggregates(table, columns, window)
    inner = ", ".join([KEY, TIME, f"count(*){window} AS {COUNT}",
                       *(f"{e} AS {q(n)}" for e, n in zip(expressions, names, strict=True)),
                       f"row_number() OVER (PARTITION BY {KEY}, {TIME} ORDER BY __seq DESC) AS __peer"])
    outer = ", ".join([KEY, TIME, COUNT, *map(q, names)])
    sql = (f"SELECT {outer} FROM (SELECT {inner} FROM {q(table)} WHERE {KEY} IS NOT NULL AND {TIME} IS NOT NULL) "
           f"WHERE __peer = 1 ORDER BY {KEY}, {TIME}")
    return sql, names


def planned_columns(kind: str, timed: bool, table: str, columns: list[Column], windows: tuple[int, ...]) -> int:
    """How many columns a relation adds (before it runs: for the cap)."""
    if kind == "lookup":
        return len(columns)
    per = sum(len(_pairs(c)) + (c.kind == "number" and not c.identifier) for c in columns)
    return per + 1 + ((1 + len(windows)) if timed else 0)
