"""Timed histories reached through a lookup (train -> cards -> payments of the card's customer): placed at each
row's time through the lookup's key, which the lookup brings onto the rows (agent/competition/relations/build.py).

The key is carried, not a feature: a lookup column that no model could use (text with more values than a
category may hold) is brought as a key only, dropped from train and test, and kept in the served joins only
while a history needs it (Schema.infer), so callers still send just their own key and time.
"""

from __future__ import annotations

from typing import Any

from agent.competition.relations.discover import ROWS, Found
from agent.competition.relations.features import Column
from agent.competition.relations.spec import HISTORY, LOOKUP, Join


def timed_under_lookup(relation: Found, by_table: dict[str, Found], row_time: str | None) -> str | None:
    """The first-level lookup a timed history hangs from, when the rows have a time: the history is then
    aggregated per row at the row's time, keyed through the lookup (transactions of the card's customer before
    the row's date); None otherwise."""
    parent = by_table.get(relation.parent)
    if relation.kind != HISTORY or relation.time is None or row_time is None or parent is None:
        return None
    return parent.table if parent.kind == LOOKUP and parent.parent == ROWS else None


def reachable(pending: list[tuple[Join, dict[str, Any]]], joins: list[Join]) -> list[Join]:
    """The histories keyed through a lookup whose lookup was joined with their keys; the others reported."""
    produced = {c for join in joins for c in join.columns}
    out = []
    for join, entry in pending:
        missing = [row for row, _ in join.on if row not in produced]
        if missing:
            entry.update(status="skipped", reason=f"the lookup that carries its key ({', '.join(missing)}) was "
                         "not joined")
        else:
            out.append(join)
    return out


def carriers(joins: list[Join]) -> list[str]:
    """Columns a lookup brings only to key a later join: keys, not features, so the models never read them."""
    keys = {row for join in joins for row, _ in join.on}
    return [c for join in joins for c in join.carried if c in keys]


def carrying(usable: list[Column], left_out: list[str], carry) -> tuple[list[Column], list[str], list[str]]:
    """`usable` with the carried key columns first (the cap on columns drops from the end); those that are no
    feature (text with too many values) are brought as keys only, and returned."""
    if not carry:
        return usable, left_out, []
    named = {column.name: column for column in usable}
    keys_only = [c for c in carry if c not in named]
    first = [named.get(c) or Column(c, "category") for c in carry]
    rest = [column for column in usable if column.name not in set(carry)]
    left_out = [note for note in left_out if not any(note.startswith(f"{c} (") for c in carry)]
    return first + rest, left_out, keys_only
