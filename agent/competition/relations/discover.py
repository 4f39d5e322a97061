"""Which side tables relate to the rows, found with evidence: a column (or a pair) of the rows whose values
mostly appear in a side table's key.

Evidence, in order: a name that says so (the same column name, or `customer_id` beside table `customers`'
`id`), then the share of rows whose key is found (at least MIN_COVERAGE of the rows with a key), then a key
that is unique in the side table (a lookup) or repeated (a history). Without a name that says so, a match
must be near total on text codes with many values: numbers alike by chance (an age and an id) are no
evidence. A table related to nothing is reported and left out. Chains: a table may relate to a lookup
already found (stores -> regions), MAX_DEPTH levels deep.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from agent.competition.dates import date_format
from agent.competition.relations.keys import NUMBER, TEXT, column_keys, frame_keys
from agent.competition.relations.spec import HISTORY, LOOKUP

MIN_COVERAGE = 0.5       # of the rows with a key, the share found in the side table
BLIND_COVERAGE = 0.95    # the same without a name that says so (and on text codes only)
BLIND_MIN_DISTINCT = 50  # distinct matched values needed then
MAX_KEY_COLUMNS = 60     # columns examined as keys per table: a 50,000-column table is not searched whole
MAX_PAIRS = 10           # shared column names tried as composite keys (pairs of them)
MAX_DEPTH = 3            # rows -> lookup -> lookup -> table
ROWS = "rows"            # the parent of a first-level relation: train and test


@dataclass(frozen=True)
class Found:
    """One relation and the evidence for it."""

    table: str
    parent: str                        # ROWS, or the side table it hangs from (a chain)
    on: tuple[tuple[str, str], ...]    # (parent column, side column)
    mode: str
    kind: str
    coverage: dict[str, float]         # train/test (or the parent table) -> share of rows with a match
    evidence: str
    provenance: str = "discovered"
    time: str | None = None            # the side table's event time (a history)
    depth: int = 1
    repeated_keys: int = 0             # key values held by more than one side row (a lookup keeps the first)
    notes: list[str] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        return {"table": self.table, "parent": "train/test" if self.parent == ROWS else self.parent,
                "on": [list(pair) for pair in self.on], "key_mode": self.mode, "kind": self.kind,
                "coverage": self.coverage, "evidence": self.evidence, "provenance": self.provenance,
                "time": self.time, "depth": self.depth, "repeated_keys": self.repeated_keys,
                **({"notes": self.notes} if self.notes else {})}


def norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def singular(name: str) -> str:
    name = norm(name)
    return name[:-3] + "y" if name.endswith("ies") else name[:-1] if name.endswith("s") else name


def named_alike(parent_column: str, side_column: str, table: str) -> bool:
    """Whether the names say the columns are the same key."""
    p, s, t = norm(parent_column), norm(side_column), singular(table)
    return p == s or p in {t + s, norm(table) + s, t + "id", t} and s in {"id", "key", "code", t + "id", p}


def key_like(values: pd.Series) -> bool:
    """A column that can hold keys: integers, text, categories or integral floats; not booleans or dates (a
    time shared by the rows and an event table would make each row find its own event: the answer)."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return False
    if pd.api.types.is_float_dtype(values):
        present = values.dropna().head(10_000)
        return bool(len(present)) and bool((present == present.round()).all())
    return pd.api.types.is_numeric_dtype(values) or date_format(values.head(2_000)) is None


def _coverage(keys: pd.Series, known: set) -> tuple[float, int, int]:
    """Share of present keys found in `known`, the distinct keys matched, and the rows with a key."""
    present = keys.dropna()
    if present.empty:
        return 0.0, 0, 0
    hit = present.isin(known)
    return float(hit.mean()), int(present[hit].nunique()), len(present)


def _numeric_text(a: pd.Series, b: pd.Series) -> bool:
    """One column holds numbers and the other text: "007" may mean 7."""
    numeric = [pd.api.types.is_numeric_dtype(x) for x in (a, b)]
    return numeric[0] != numeric[1]


def relate(parents: dict[str, pd.DataFrame], name: str, side: pd.DataFrame,
           table_of_parent: str = ROWS) -> Found | None:
    """The best relation of side table `name` to the parent rows (train and test, or one side table), or None.

    `parents`: role -> frame (train and test: coverage is measured in each and the worst must pass)."""
    side_columns = [c for c in list(side.columns)[:MAX_KEY_COLUMNS] if key_like(side[c])]
    first = next(iter(parents.values()))
    parent_columns = [c for c in list(first.columns)[:MAX_KEY_COLUMNS]
                      if all(c in p.columns for p in parents.values()) and key_like(first[c])]
    best: tuple[tuple, Found] | None = None
    cache: dict[tuple[str, str], set] = {}
    rows_cache: dict[tuple[str, str, str], pd.Series] = {}  # each parent column canonicalised once per mode
    for p, s in itertools.product(parent_columns, side_columns):
        named = named_alike(p, s, name)
        if not named and (pd.api.types.is_numeric_dtype(first[p]) or pd.api.types.is_numeric_dtype(side[s])):
            continue  # numbers alike by chance are no evidence
        modes = (TEXT, NUMBER) if _numeric_text(first[p], side[s]) else (TEXT,)
        for mode in modes:
            known = cache.setdefault((s, mode), set(column_keys(side[s], mode).dropna().unique()))
            measured = {}
            for role, frame in parents.items():
                if (role, p, mode) not in rows_cache:
                    rows_cache[(role, p, mode)] = column_keys(frame[p], mode)
                measured[role] = _coverage(rows_cache[(role, p, mode)], known)
            worst = min(share for share, _, _ in measured.values())
            matched = max(distinct for _, distinct, _ in measured.values())
            if worst < (MIN_COVERAGE if named else BLIND_COVERAGE) or matched < (1 if named else BLIND_MIN_DISTINCT):
                continue
            found = _found(name, side, table_of_parent, ((p, s),), mode, measured, named)
            rank = (named, mode == TEXT, round(worst, 2), found.kind == LOOKUP, matched)
            if best is None or rank > best[0]:
                best = (rank, found)
            break  # the text match passed: no need to compare as numbers
    composite = _composite(parents, name, side, table_of_parent, parent_columns, side_columns)
    if composite is not None and (best is None or (best[1].kind == HISTORY and composite.kind == LOOKUP)):
        return composite
    return best[1] if best else None


def _composite(parents, name, side, table_of_parent, parent_columns, side_columns) -> Found | None:
    """A key of two columns named alike in both tables (store and department), when it is unique in the side
    table (a lookup no single column gives)."""
    shared = [(p, s) for p in parent_columns for s in side_columns if norm(p) == norm(s)][:MAX_PAIRS]
    best = None
    for first_pair, second_pair in itertools.combinations(shared, 2):
        on = (first_pair, second_pair)
        side_keys = frame_keys(side, [s for _, s in on])
        if side_keys.dropna().duplicated().any():
            continue
        known = set(side_keys.dropna())
        measured = {role: _coverage(frame_keys(frame, [p for p, _ in on]), known) for role, frame in parents.items()}
        worst = min(share for share, _, _ in measured.values())
        if worst >= MIN_COVERAGE and (best is None or worst > best[0]):
            best = (worst, _found(name, side, table_of_parent, on, TEXT, measured, True))
    return best[1] if best else None


def _found(name, side, parent, on, mode, measured, named) -> Found:
    keys = frame_keys(side, [s for _, s in on], mode).dropna()
    repeated = int(keys.duplicated(keep=False).sum())
    kind = LOOKUP if repeated == 0 else HISTORY
    shares = ", ".join(f"{share:.0%} of {role} rows" for role, (share, _, _) in measured.items())
    columns = " + ".join(p for p, _ in on)
    evidence = (f"{shares} with a {columns} find it in {name}.{' + '.join(s for _, s in on)} "
                f"({'unique there: a lookup' if kind == LOOKUP else 'repeated there: a history'})"
                + ("" if named else "; matched on values alone") + (" ; compared as numbers ('007' = 7)"
                                                                     if mode == NUMBER else ""))
    return Found(table=name, parent=parent, on=tuple(on), mode=mode, kind=kind,
                 coverage={role: round(share, 4) for role, (share, _, _) in measured.items()}, evidence=evidence,
                 repeated_keys=int(keys[keys.duplicated()].nunique()) if repeated else 0)
