"""A competition's side tables turned into columns of train and test: relations found (or stated), their
features computed in DuckDB, joined through the one index serving uses too, all recorded with provenance.

Bounded (`Limits`, the `side_tables:` settings): at most `max_table_columns` columns from one table and
`max_columns` in all (the columns left out are reported), keys searched in the first columns of a wide table
only, and the whole by `deadline` (the run's load piece, which reading the tables shares: docs/time-plan.md): a
query still running then is interrupted and its relation reported as skipped, so the run goes on with the
relations it has. DuckDB works within a memory limit and spills to the run's folder beyond it; it loads no
extension (nothing can be downloaded).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agent.competition.dates import date_format, detect_dates, parse
from agent.competition.relations.chains import carriers, carrying, reachable, timed_under_lookup
from agent.competition.relations.declared import Declared, parse_relations
from agent.competition.relations.discover import MAX_DEPTH, ROWS, Found, _coverage, _found, relate
from agent.competition.relations.features import (
    history_sql,
    lookup_sql,
    planned_columns,
    timed_history_sql,
    usable_columns,
)
from agent.competition.relations.index import Joiner, SideIndex, read_side
from agent.competition.relations.keys import TEXT, frame_keys, mixed_types
from agent.competition.relations.spec import HISTORY, KEY, LOOKUP, SIDE_FOLDER, TIME, Join
from agent.competition.tables import CompetitionData
from agent.deadline import Deadline
from agent.errors import InputError

log = logging.getLogger("podium.relations")
WINDOWS = (7, 30, 90)    # days: counts of a timed history's events in each window before the row's time


@dataclass(frozen=True)
class Limits:
    """What relating side tables may use: generated columns (in all, per table) and DuckDB's memory and threads
    (beyond its memory it spills to the run's folder). The `side_tables:` settings (configs/default.yaml)."""

    max_columns: int
    max_table_columns: int
    memory_limit: str
    threads: int

    @classmethod
    def of(cls, settings: Any = None) -> Limits:
        """From a SideTableSettings; without one, the shipped defaults."""
        from agent.config import SideTableSettings

        settings = settings if settings is not None else SideTableSettings()
        return cls(settings.max_columns, settings.max_table_columns, settings.memory_limit, settings.threads)


@dataclass
class Related:
    """Train and test with the joined columns, the joins (for the production model), and the manifest's record."""

    train: pd.DataFrame
    test: pd.DataFrame
    joins: list[Join] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)
    folder: Path | None = None


def relate_tables(train: pd.DataFrame, test: pd.DataFrame, side: dict[str, pd.DataFrame], section: Any,
                  folder: Path, deadline: Deadline | None = None, limits: Limits | None = None,
                  skipped: dict[str, str] | None = None) -> Related:
    """Find the relations of `side` to train and test, compute their features and join them.

    `section`: competition.yaml's `relations:` (None: discover all). `skipped`: tables already left out while
    reading (not a table), reported with the others. `limits`: the shipped `side_tables:` settings if None."""
    limits = limits or Limits.of()
    record: dict[str, Any] = {"relations": [], "unrelated": dict(skipped or {}), "max_columns": limits.max_columns,
                              "max_table_columns": limits.max_table_columns}
    if not side:
        return Related(train, test, record=record if skipped else {})
    started = time.monotonic()
    rows = {"train": train, "test": test}
    stated, row_time = parse_relations(section, rows, side)
    row_time, row_format = _row_time(train, test, row_time)
    record["row_time"] = {"column": row_time, "format": row_format} if row_time else None
    found = _find(rows, side, stated, record, deadline)
    folder = Path(folder)
    (folder / SIDE_FOLDER).mkdir(parents=True, exist_ok=True)
    side = dict(side)
    joins: list[Join] = []
    budget = [limits.max_columns, limits.max_table_columns]
    by_table = {relation.table: relation for relation in found}
    carried: dict[str, list[str]] = {}  # a lookup's columns that a timed history under it is keyed on
    pending: list[tuple[Join, dict[str, Any]]] = []  # those histories, until their lookup brings the keys in
    import duckdb

    with duckdb.connect(config={"memory_limit": limits.memory_limit, "threads": limits.threads,
                                "autoload_known_extensions": False,
                                "autoinstall_known_extensions": False,
                                "temp_directory": str(folder / "spill")}) as con:
        for relation in sorted(found, key=lambda f: -f.depth):  # deepest first: a chain enriches its parent
            entry = relation.record()
            record["relations"].append(entry)
            if relation.parent != ROWS and relation.parent not in side:
                entry.update(status="skipped", reason=f"its parent '{relation.parent}' was left out")
                continue
            if deadline is not None and deadline.passed():
                entry.update(status="skipped", reason="the load piece's deadline passed (docs/several-tables.md)")
                continue
            lookup = timed_under_lookup(relation, by_table, row_time)
            try:
                if lookup is not None:  # joined on the rows through the lookup's key: placed at each row's time
                    keyed = replace(relation, on=tuple((f"{lookup}.{p}", s) for p, s in relation.on))
                    join = _compute(con, keyed, side, folder, budget, row_time, row_format, deadline, entry)
                else:
                    join = _compute(con, relation, side, folder, budget,
                                    row_time if relation.parent == ROWS else None, row_format, deadline, entry,
                                    carry=carried.get(relation.table, []))
            except _Interrupted:
                entry.update(status="skipped", reason="interrupted at the load piece's deadline")
                continue
            if join is None:
                continue
            if lookup is not None:
                keys = carried.setdefault(lookup, [])
                keys += [p for p, _ in relation.on if p not in keys]
                pending.append((join, entry))
                entry["through"] = lookup
            elif relation.parent == ROWS:
                joins.append(join)
            else:  # a chain: the parent table gains the columns, prefixed when it is joined in turn
                parent = side[relation.parent]
                side[relation.parent] = Joiner([join], folder).frame(parent, where=relation.parent)
    joins.reverse()  # in the order they were found, first-level first
    joins += reachable(pending, joins)
    joiner = Joiner(joins, folder)
    keys_only = carriers(joins)
    train = joiner.frame(train, "train").drop(columns=keys_only)
    test = joiner.frame(test, "test").drop(columns=keys_only)
    record["seconds"] = round(time.monotonic() - started, 3)
    record["columns"] = len(joiner.columns) - len(keys_only)
    if deadline is not None:
        record["deadline_seconds_left"] = round(deadline.remaining(), 3)
    return Related(train, test, joins, record, folder)


def join_relations(data: CompetitionData, section: Any, folder: Path, deadline: Deadline | None = None,
                   limits: Limits | None = None) -> CompetitionData:
    """The competition's data with its side tables joined onto train and test; `relations` records the joins
    (for the production model: `root` and `joins`) and the manifest's `record`."""
    related = relate_tables(data.train, data.test, data.tables, section, folder, deadline, limits,
                            skipped=data.skipped)
    relations = {"record": related.record}
    if related.joins:
        relations.update(root=str(related.folder), joins=[join.model_dump(mode="json") for join in related.joins])
    return replace(data, train=related.train, test=related.test, relations=relations)


class _Interrupted(Exception):
    pass


def _row_time(train: pd.DataFrame, test: pd.DataFrame, stated: str | None) -> tuple[str | None, str | None]:
    """The rows' time: the stated column, else the first column of train and test holding dates."""
    shared = [c for c in train.columns if c in test.columns]
    if stated is not None:
        fmt = date_format(pd.concat([train[stated], test[stated]], ignore_index=True)) if stated in test.columns \
            else None
        if fmt is None:
            raise InputError(f"`row_time` names '{stated}', which does not hold dates in train and test",
                             where="competition.yaml `relations`", fix="name a date column of both, or leave it out")
        return stated, fmt
    found = detect_dates(train, test, shared)
    column = next(iter(found), None)
    return column, found.get(column)


def _find(rows: dict[str, pd.DataFrame], side: dict[str, pd.DataFrame], stated: dict[str, Declared],
          record: dict[str, Any], deadline: Deadline | None = None) -> list[Found]:
    """The relations stated, then those discovered level by level (chains hang from lookups); a table not yet
    examined when the deadline passes is reported as such."""
    found: dict[str, Found] = {}
    for table, declared in stated.items():
        if declared.skip:
            record["unrelated"][table] = "left out by competition.yaml `relations`"
            continue
        parents = rows if declared.parent is None else {declared.parent: side[declared.parent]}
        mode = declared.mode or TEXT
        measured = {role: _coverage(frame_keys(frame, [p for p, _ in declared.on], mode),
                                    set(frame_keys(side[table], [s for _, s in declared.on], mode).dropna()))
                    for role, frame in parents.items()}
        relation = _found(table, side[table], declared.parent or ROWS, declared.on, mode, measured, True)
        kind = declared.kind or relation.kind
        relation = replace(relation, kind=kind, provenance="competition.yaml", time=declared.time,
                           depth=_depth(declared, stated),
                           evidence=relation.evidence.split(" (")[0] + f" (stated in competition.yaml: a {kind})")
        found[table] = relation
    frontier = {ROWS: rows}
    for depth in range(1, MAX_DEPTH + 1):
        added = {}
        for table in sorted(side):
            if table in found or table in stated:
                continue
            if deadline is not None and deadline.passed():
                record["unrelated"][table] = "not examined: the load piece's deadline passed (docs/several-tables.md)"
                continue
            for parent, parents in frontier.items():
                relation = relate(parents, table, side[table], parent)
                if relation is not None:
                    added[table] = replace(relation, depth=depth)
                    break
        found.update(added)
        frontier = {name: {name: side[name]} for name, rel in added.items() if rel.kind == LOOKUP}
        if not frontier:
            break
    for table in sorted(side):
        if table not in found and table not in record["unrelated"]:
            record["unrelated"][table] = ("no column of train, test or a related table has values that mostly "
                                          "appear in one of its columns: left out")
    for relation in found.values():
        notes = [f"key column {s} mixes {', '.join(kinds)}" for _, s in relation.on
                 if (kinds := mixed_types(side[relation.table][s]))]
        relation.notes.extend(notes)
    return [_with_time(relation, side[relation.table]) for relation in found.values()]


def _depth(declared: Declared, stated: dict[str, Declared]) -> int:
    depth, current = 1, declared.parent
    while current is not None:
        depth += 1
        current = stated[current].parent if current in stated else None
    return depth


def _with_time(relation: Found, frame: pd.DataFrame) -> Found:
    """A history's event time: stated, or its first column holding dates (not a key)."""
    if relation.kind != HISTORY or relation.time is not None:
        return relation
    keys = {s for _, s in relation.on}
    for column in frame.columns:
        if column in keys:
            continue
        values = frame[column]
        if (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)
                or pd.api.types.is_datetime64_any_dtype(values)) and date_format(values) is not None:
            return replace(relation, time=column)
    return relation


def _compute(con, relation: Found, side: dict[str, pd.DataFrame], folder: Path, budget: list[int],
             row_time: str | None, row_format: str | None, deadline: Deadline | None,
             entry: dict[str, Any], carry: list[str] | tuple[str, ...] = ()) -> Join | None:
    """One relation's side file (its SQL run in DuckDB into Parquet) and its Join; None when it is skipped.
    `carry`: a lookup's columns that key a later join, brought in first (and only as keys, if no feature)."""
    frame = side[relation.table]
    keys = {s for _, s in relation.on}
    event_time = relation.time if relation.kind == HISTORY else None
    timed = event_time is not None and row_time is not None
    if event_time is not None and row_time is None:
        if relation.parent != ROWS:
            entry.update(status="skipped", reason="a history with a time is placed at each row's time only under a "
                         "first-level lookup, and when the rows have a time: left out rather than let later events "
                         "leak in")
            return None
        entry.setdefault("notes", []).append("the rows have no time: every event of a key counts")
    usable, left_out = usable_columns(frame, keys | ({event_time} if event_time else set()))
    usable, left_out, carried = carrying(usable, left_out, carry)
    allowed = min(budget)  # what is left of the run's columns, and one table's
    while usable and planned_columns(relation.kind, timed, relation.table, usable, WINDOWS) > allowed:
        left_out.append(f"{usable.pop().name} (the cap on generated columns)")
    planned = planned_columns(relation.kind, timed, relation.table, usable, WINDOWS)
    if left_out:
        entry["columns_left_out"] = left_out[:50] + ([f"... {len(left_out) - 50} more"] if len(left_out) > 50 else [])
    if not usable and relation.kind == LOOKUP:
        entry.update(status="skipped", reason="it holds no column a model can use")
        return None
    if planned and budget[0] <= 0:
        entry.update(status="skipped", reason="the cap on generated columns was reached")
        return None
    prepared = _prepare(frame, relation, usable, event_time)
    con.register(relation.table, prepared)
    if relation.kind == LOOKUP:
        sql, names = lookup_sql(relation.table, usable)
    elif timed:
        sql, names = timed_history_sql(relation.table, usable)
    else:
        sql, names = history_sql(relation.table, usable)
    target = folder / SIDE_FOLDER / f"{relation.table}.parquet"
    began = time.monotonic()
    _bounded(con, f"COPY ({sql}) TO {_literal(target)} (FORMAT parquet)", deadline)
    con.unregister(relation.table)
    windows = WINDOWS if timed else ()
    columns = names if not timed else [f"{relation.table}.count", f"{relation.table}.days_since_last",
                                       *(f"{relation.table}.count_{d}d" for d in windows), *names]
    join = Join(table=relation.table, kind=relation.kind, on=relation.on, mode=relation.mode,
                file=f"{SIDE_FOLDER}/{relation.table}.parquet", columns=tuple(columns),
                time=row_time if timed else None, time_format=row_format if timed else None, windows=windows,
                sql=sql, carried=tuple(f"{relation.table}.{c}" for c in carried))
    budget[0] -= len(columns)
    stored = read_side(target, join)
    join = join.model_copy(update={"side_schema": tuple((c, str(t)) for c, t in stored.dtypes.items())})
    entry.update(status="joined", columns=list(columns), sql=sql, side_rows=len(stored),
                 seconds=round(time.monotonic() - began, 3), time=event_time,
                 point_in_time=f"only {relation.table} events strictly before the row's {row_time}" if timed else None)
    if join.carried:  # brought only to key a history under this lookup: no model reads them
        entry["keys_only"] = list(join.carried)
    SideIndex(join, stored)  # built once here: a side file the index cannot read fails now, not when serving
    return join


def _prepare(frame: pd.DataFrame, relation: Found, usable, event_time: str | None) -> pd.DataFrame:
    """The columns the SQL reads, with the key as compared, the row order and the event time in seconds."""
    out = {KEY: frame_keys(frame, [s for _, s in relation.on], relation.mode).astype(object),
           "__seq": np.arange(len(frame), dtype=np.int64)}
    if event_time is not None:
        fmt = date_format(frame[event_time]) or "datetime"
        moments = parse(frame[event_time], fmt)
        seconds = pd.Series(moments.to_numpy(dtype="datetime64[ns]").astype(np.int64) // 10**9, index=frame.index)
        out[TIME] = seconds.where(moments.notna()).astype("Int64")
    for column in usable:
        values = frame[column.name]
        if column.date_format is not None or pd.api.types.is_datetime64_any_dtype(values):
            moments = parse(values, column.date_format or "datetime")
            values = (moments - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
        elif pd.api.types.is_bool_dtype(values):
            values = values.astype("Float64")
        elif column.kind == "category":
            values = values.astype(object).where(values.notna(), None).map(lambda v: v if v is None else str(v))
        out[column.name] = values.reset_index(drop=True) if hasattr(values, "reset_index") else values
    return pd.DataFrame({k: (v.reset_index(drop=True) if isinstance(v, pd.Series) else v) for k, v in out.items()})


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _bounded(con, sql: str, deadline: Deadline | None) -> None:
    """Run `sql`, interrupted at `deadline` (DuckDB checks for an interrupt between its vectors)."""
    import duckdb

    timer = None
    if deadline is not None:
        timer = threading.Timer(max(0.0, deadline.remaining()), con.interrupt)
        timer.daemon = True
        timer.start()
    try:
        con.execute(sql)
    except duckdb.InterruptException as exc:
        raise _Interrupted() from exc
    finally:
        if timer is not None:
            timer.cancel()


__all__ = ["Limits", "Related", "join_relations", "relate_tables"]
