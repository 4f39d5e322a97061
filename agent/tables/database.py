"""Read a table or a query from a database in bounded batches, before a deadline, and say exactly what was read.

Bounds: at most `max_rows` rows (the query is wrapped in a LIMIT one past it: a larger result is a reported
sample of its first rows where a sample serves, an error where every row is needed), at most the byte limit
of a table (the decoded batches counted as they come), and a deadline (PostgreSQL's statement_timeout, and an
interrupt from a timer for every database), so a slow query or a huge table ends in a clear error, never a
hang. Every driver error is worded here, its text passed through `scrub`: no password reaches a message.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from agent.config import Limits
from agent.deadline import Deadline
from agent.errors import InputError
from agent.tables.decompress import TooLarge
from agent.tables.frames import check_columns, to_frame
from agent.tables.location import Location
from agent.tables.secrets import scrub


@dataclass(frozen=True)
class Bounds:
    """How much one read may take: bytes (`limits`), rows, time; whether a sample of the first rows serves."""

    limits: Limits
    max_rows: int | None = None
    sample: bool = False
    deadline: Deadline | None = None
    batch_rows: int = 65_536
    connect_timeout_s: float = 10.0
    deadline_setting: str = "database.timeout"


@dataclass(frozen=True)
class Read:
    """A table read, and what the run's manifest records of it (never a password)."""

    frame: pd.DataFrame
    record: dict[str, Any]


def read_query(location: Location, role: str, bounds: Bounds) -> Read:
    """The rows of `location` (a database table or query) as a DataFrame with the database's column types."""
    from agent.tables.drivers import connect

    database, where = location.database, location.shown
    sql = location.sql
    if bounds.max_rows is not None:
        sql = f"SELECT * FROM ({sql}) AS podium_rows LIMIT {bounds.max_rows + 1}"
    started = time.monotonic()
    timeout = None if bounds.deadline is None else bounds.deadline.remaining()
    if timeout is not None and timeout <= 0:
        raise _late(role, where, bounds, 0.0)
    try:
        driver = connect(database, bounds.connect_timeout_s)
    except Exception as exc:  # noqa: BLE001 - each driver has its own exception classes
        raise connection_error(exc, database.url, database.shown) from None
    timer = threading.Timer(timeout, driver.cancel) if timeout is not None else None
    try:
        if timer is not None:
            timer.daemon = True
            timer.start()
        batches, schema, rows, seen = _collect(driver.stream(sql, bounds.batch_rows, timeout), role, where, bounds)
    except (InputError, TooLarge):
        raise
    except Exception as exc:  # noqa: BLE001
        seconds = time.monotonic() - started
        if timer is not None and (not timer.is_alive() or _timed_out(exc)):
            raise _late(role, where, bounds, seconds) from None
        raise InputError(f"The {role} query failed: {scrub(_first_line(exc), database.url)}", where=where,
                         fix="run the query in psql (or the database's own shell) to see why; check the table "
                             "and column names") from None
    finally:
        if timer is not None:
            timer.cancel()
        driver.close()
    table = _combine(batches, schema)
    del batches
    sampled = bounds.max_rows is not None and rows > bounds.max_rows
    if sampled:
        table = table.slice(0, bounds.max_rows)
    if table.num_rows == 0:
        raise InputError(f"The {role} query returned no rows", where=where,
                         fix="check the table or the query's WHERE clause")
    frame = to_frame(table)
    record = {"role": role, "source": database.shown, "query": sql, "rows": len(frame), "columns": frame.shape[1],
              "bytes": seen, "seconds": round(time.monotonic() - started, 3), "sampled": sampled}
    if sampled:
        record["note"] = (f"more than {bounds.max_rows:,} rows: read the first {bounds.max_rows:,} the query "
                          "returned (database.max_rows); not a random sample: for one, write it in the query")
    return Read(frame, record)


def _collect(stream, role: str, where: str, bounds: Bounds):
    """Batches until the stream ends or the row bound is passed; TooLarge past the byte limit."""
    batches, schema, rows, seen = [], None, 0, 0
    allowed = bounds.limits.max_bytes
    for batch in stream:
        if schema is None:
            schema = batch.schema
            check_columns(schema.names, role, where)
        batches.append(batch)
        rows += batch.num_rows
        seen += batch.nbytes
        if seen > allowed:
            raise TooLarge(f"The {role} is too large to read: more than {allowed:,} bytes once decoded "
                           f"({rows:,} rows so far)", where=where,
                           fix=f"nothing was kept; select fewer rows or columns, or raise "
                               f"{bounds.limits.max_bytes_setting} if the memory is there")
        if bounds.max_rows is not None and rows > bounds.max_rows:
            if not bounds.sample:
                raise InputError(f"The {role} has more than {bounds.max_rows:,} rows, the most podium reads from "
                                 "a database (database.max_rows), and every row of it is needed", where=where,
                                 fix="raise database.max_rows, or select fewer rows")
            break
    if schema is None:
        raise InputError(f"The {role} query returned no rows", where=where,
                         fix="check the table or the query's WHERE clause")
    return batches, schema, rows, seen


def _combine(batches: list, schema):
    """One Arrow table of the batches. SQLite's types come from each batch's values, so batches may differ
    (a column all missing in one, integers in the next): promoted to a common type, else read as text."""
    import pyarrow as pa

    if all(batch.schema == schema for batch in batches):
        return pa.Table.from_batches(batches, schema=schema)
    tables = [pa.Table.from_batches([batch]) for batch in batches]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        mixed = {name for name in schema.names if len({t.schema.field(name).type for t in tables}
                                                       - {pa.null()}) > 1}
        tables = [t.select(schema.names).cast(pa.schema([
            pa.field(f.name, pa.string() if f.name in mixed else f.type) for f in t.schema])) for t in tables]
        return pa.concat_tables(tables, promote_options="permissive")


def _late(role: str, where: str, bounds: Bounds, seconds: float) -> InputError:
    return InputError(f"Reading the {role} did not finish in time (stopped after {seconds:.1f} s)", where=where,
                      fix=f"read fewer rows (a WHERE clause or a LIMIT in the query, or database.max_rows), add an "
                          f"index, or give reading more time ({bounds.deadline_setting})")


def _timed_out(exc: Exception) -> bool:
    text = str(exc).lower()
    return "statement timeout" in text or "interrupt" in text or "cancel" in text


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    for prefix in ("ProgrammingError: ", "OperationalError: ", "DatabaseError: "):
        text = text.removeprefix(prefix)
    return text.splitlines()[0][:500] if text else type(exc).__name__


def connection_error(exc: Exception, url: str, shown: str) -> InputError:
    """A failed connection as a message that says which of the usual causes it is; never the password."""
    text = scrub(_first_line(exc), url)
    lower = text.lower()
    if "password authentication failed" in lower or "no password supplied" in lower:
        return InputError(f"The database refused the credentials ({text})", where=shown,
                          fix="check the user and the password: in PGPASSWORD, in ~/.pgpass (or PGPASSFILE), or in "
                              "the URL")
    if "timeout expired" in lower or "connection refused" in lower or "could not connect" in lower \
            or "could not translate host" in lower or "no such host" in lower:
        return InputError(f"The database server cannot be reached ({text})", where=shown,
                          fix="check the host and the port (psql with the same URL tells the same), and that the "
                              "server is running and accepts connections from here")
    if "does not exist" in lower:
        return InputError(f"The database does not exist ({text})", where=shown,
                          fix="check the database name after the last / of the URL")
    return InputError(f"Cannot connect to the database ({text})", where=shown,
                      fix="check the URL; psql (or the database's shell) with the same URL shows the problem")

