"""The `relations:` section of competition.yaml: relations stated by hand, overriding discovery.

    relations:
      stores: {on: store_id}                                 # the same column name in the rows and in stores
      orders: {on: {customer: customer_id}, time: ordered_at} # rows' customer = orders.customer_id; events timed
      regions: {parent: stores, on: region_id}               # a chain: regions hangs from stores
      notes: false                                           # never join this table
      row_time: date                                         # the rows' time (default: their first date column)

A table named here is never discovered; the others still are. A bad entry (an unknown table or column, a
parent that loops back) stops the run with what is wrong and where.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from agent.competition.declaration import check_keys
from agent.errors import InputError

ENTRY_KEYS = ("on", "parent", "kind", "time", "mode")
ROW_TIME = "row_time"
WHERE = "competition.yaml `relations`"
EXAMPLE = "e.g. relations: {stores: {on: store_id}, orders: {on: {customer: customer_id}, time: ordered_at}}"


@dataclass(frozen=True)
class Declared:
    """One stated relation (or `skip`: a table never to join)."""

    table: str
    on: tuple[tuple[str, str], ...] = ()
    parent: str | None = None
    kind: str | None = None
    time: str | None = None
    mode: str | None = None
    skip: bool = False


def parse_relations(section: Any, rows: dict[str, pd.DataFrame],
                    side: dict[str, pd.DataFrame]) -> tuple[dict[str, Declared], str | None]:
    """The stated relations by table, and the rows' time column if stated; refused with a clear error."""
    if section is None:
        return {}, None
    if not isinstance(section, dict):
        raise InputError("`relations` must map side table names to how they join", where=WHERE, fix=EXAMPLE)
    row_time = section.get(ROW_TIME)
    first = next(iter(rows.values()))
    if row_time is not None and row_time not in first.columns:
        raise InputError(f"`row_time` names '{row_time}', which is not a column of train", where=WHERE,
                         fix=f"use one of {list(first.columns)[:20]}")
    stated = {}
    for table, entry in section.items():
        if table == ROW_TIME:
            continue
        table = str(table)
        if table not in side:
            raise InputError(f"`relations` names the table '{table}', which the competition does not have",
                             where=WHERE, fix=f"use one of {sorted(side) or 'no side tables found'}: a file in the "
                             "folder (its name without the suffix) or a name under `tables:`")
        stated[table] = _entry(table, entry, rows, side)
    _refuse_loops(stated)
    return stated, row_time


def _entry(table: str, entry: Any, rows: dict[str, pd.DataFrame], side: dict[str, pd.DataFrame]) -> Declared:
    where = f"{WHERE} -> {table}"
    if entry is False or entry == "skip":
        return Declared(table=table, skip=True)
    if not isinstance(entry, dict):
        raise InputError(f"The relation of '{table}' must be a mapping (or false to leave the table out)",
                         where=where, fix=EXAMPLE)
    check_keys(entry, where, ENTRY_KEYS, what=f"the relation of '{table}'")
    parent = entry.get("parent")
    if parent is not None and parent not in side:
        raise InputError(f"The parent '{parent}' of '{table}' is not a side table", where=where,
                         fix=f"name one of {sorted(side)}, or leave `parent` out (the rows themselves)")
    parent_frame = side[parent] if parent else next(iter(rows.values()))
    on = entry.get("on")
    if isinstance(on, str):
        pairs = [(on, on)]
    elif isinstance(on, list) and on and all(isinstance(c, str) for c in on):
        pairs = [(c, c) for c in on]
    elif isinstance(on, dict) and on:
        pairs = [(str(p), str(s)) for p, s in on.items()]
    else:
        raise InputError(f"The relation of '{table}' needs `on`: the key column(s)", where=where,
                         fix="write on: COLUMN, on: [A, B] or on: {ROW_COLUMN: SIDE_COLUMN}")
    for p, s in pairs:
        if p not in parent_frame.columns:
            raise InputError(f"The key column '{p}' is not a column of {parent or 'train'}", where=where,
                             fix=f"use one of {list(parent_frame.columns)[:20]}")
        if s not in side[table].columns:
            raise InputError(f"The key column '{s}' is not a column of {table}", where=where,
                             fix=f"use one of {list(side[table].columns)[:20]}")
    kind = entry.get("kind")
    if kind not in (None, "lookup", "history"):
        raise InputError(f"Unknown relation kind {kind!r}", where=where, fix="use lookup or history")
    time = entry.get("time")
    if time is not None and time not in side[table].columns:
        raise InputError(f"The time column '{time}' is not a column of {table}", where=where,
                         fix=f"use one of {list(side[table].columns)[:20]}")
    mode = entry.get("mode")
    if mode not in (None, "text", "number"):
        raise InputError(f"Unknown key mode {mode!r}", where=where,
                         fix="use text (keys as written) or number ('007' = 7)")
    return Declared(table=table, on=tuple(pairs), parent=parent, kind=kind, time=time, mode=mode)


def _refuse_loops(stated: dict[str, Declared]) -> None:
    """A table whose parents lead back to itself joins nothing to the rows: a mistake, named."""
    for table in stated:
        seen, current = [table], stated[table].parent
        while current is not None:
            if current in seen:
                loop = " -> ".join([*seen[seen.index(current):], current])
                raise InputError(f"The relations loop: {loop}", where=WHERE,
                                 fix="give one of these tables no `parent` (it then joins the rows themselves)")
            seen.append(current)
            current = stated[current].parent if current in stated else None
