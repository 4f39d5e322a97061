"""The database drivers, behind one small interface: stream a query's rows as Arrow batches, stop it from
another thread, list tables, replace a table in one transaction.

Chosen on measured figures (benchmarks/readers.py, docs/running.md): ADBC for PostgreSQL (libpq's COPY in
binary, straight into Arrow, streamed; libpq's own PGPASSWORD, PGPASSFILE and ~/.pgpass, sslmode and every
other libpq setting; writes in a transaction), DuckDB's own Python package for DuckDB, and Python's sqlite3 for
SQLite (ADBC's SQLite driver reads faster but cannot stop a running query: sqlite3's interrupt can). Drivers
are imported only when a database is used: importing podium's runtime never loads one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import suppress
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pyarrow as pa

from agent.tables.location import DUCKDB, POSTGRESQL, SQLITE, Database


class Driver(Protocol):
    """One open connection."""

    def stream(self, sql: str, batch_rows: int, timeout_s: float | None) -> Iterator[pa.RecordBatch]: ...

    def cancel(self) -> None:
        """Stop the running query (called from another thread when the deadline passes)."""

    def tables(self) -> list[str]: ...

    def replace_table(self, name: str, data: pa.Table) -> None:
        """Create or replace table `name` holding `data`, in one transaction: all of it or nothing."""

    def close(self) -> None: ...


def connect(database: Database, connect_timeout_s: float, read_only: bool = True) -> Driver:
    """An open connection to `database` (errors are the driver's own: agent/tables/database.py words them)."""
    if database.kind == POSTGRESQL:
        return _Adbc(_postgresql(database, connect_timeout_s))
    if database.kind == SQLITE:
        return _SQLite(database, read_only)
    if database.kind == DUCKDB:
        return _DuckDB(database, read_only)
    raise ValueError(f"no driver for {database.kind}")


def _postgresql(database: Database, connect_timeout_s: float):
    """libpq's connection, with a connect timeout unless the URL sets one (an unreachable server fails fast)."""
    import adbc_driver_postgresql.dbapi as postgresql

    parts = urlsplit(database.libpq_url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("connect_timeout", str(max(2, round(connect_timeout_s))))
    query.setdefault("application_name", "podium")
    return postgresql.connect(urlunsplit(parts._replace(query=urlencode(query))))


class _Adbc:
    """PostgreSQL through ADBC's DB-API (autocommit off: every write is one transaction)."""

    def __init__(self, connection: Any):
        self.connection = connection
        self.cursor = connection.cursor()

    def stream(self, sql: str, batch_rows: int, timeout_s: float | None) -> Iterator[pa.RecordBatch]:
        self.cursor.execute("SET TRANSACTION READ ONLY")  # a query can never change the data it reads
        if timeout_s is not None:  # the server stops the statement: nothing hangs on a slow query
            self.cursor.execute(f"SET LOCAL statement_timeout = {max(1, int(timeout_s * 1000))}")
        self.cursor.adbc_statement.set_options(
            **{"adbc.postgresql.batch_size_hint_bytes": str(max(1 << 20, batch_rows * 256))})
        self.cursor.execute(sql)
        yield from self.cursor.fetch_record_batch()

    def cancel(self) -> None:
        with suppress(Exception):
            self.cursor.adbc_cancel()

    def tables(self) -> list[str]:
        self.cursor.execute("SELECT CASE WHEN table_schema = current_schema() THEN table_name "
                            "ELSE table_schema || '.' || table_name END FROM information_schema.tables "
                            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1")
        names = [row[0] for row in self.cursor.fetchall()]
        self.connection.rollback()
        return names

    def replace_table(self, name: str, data: pa.Table) -> None:
        schema, _, table = name.rpartition(".")
        try:
            self.cursor.adbc_ingest(_bare(table), data, mode="replace", db_schema_name=_bare(schema) or None)
            self.connection.commit()
        except BaseException:
            with suppress(Exception):
                self.connection.rollback()
            raise

    def close(self) -> None:
        with suppress(Exception):
            self.cursor.close()
        with suppress(Exception):
            self.connection.close()


class _DuckDB:
    """A DuckDB file (read-only for reading: another process may hold it open for reading too)."""

    def __init__(self, database: Database, read_only: bool):
        import duckdb

        self.connection = duckdb.connect(str(database.file), read_only=read_only)

    def stream(self, sql: str, batch_rows: int, timeout_s: float | None) -> Iterator[pa.RecordBatch]:
        yield from self.connection.sql(sql).to_arrow_reader(batch_rows)

    def cancel(self) -> None:
        with suppress(Exception):
            self.connection.interrupt()

    def tables(self) -> list[str]:
        rows = self.connection.execute(
            "SELECT CASE WHEN table_schema = current_schema() THEN table_name "
            "ELSE table_schema || '.' || table_name END FROM information_schema.tables ORDER BY 1").fetchall()
        return [row[0] for row in rows]

    def replace_table(self, name: str, data: pa.Table) -> None:
        from agent.tables.location import quote_name

        self.connection.execute("BEGIN TRANSACTION")
        try:
            self.connection.register("podium_rows", data)
            self.connection.execute(f"CREATE OR REPLACE TABLE {quote_name(name)} AS SELECT * FROM podium_rows")
            self.connection.execute("COMMIT")
        except BaseException:
            with suppress(Exception):
                self.connection.execute("ROLLBACK")
            raise
        finally:
            with suppress(Exception):
                self.connection.unregister("podium_rows")

    def close(self) -> None:
        with suppress(Exception):
            self.connection.close()


class _SQLite:
    """A SQLite file through Python's sqlite3: rows fetched a batch at a time and turned into Arrow columns
    (types from the values: SQLite's columns have affinities, not types; DATE and TIMESTAMP columns as dates)."""

    def __init__(self, database: Database, read_only: bool):
        import sqlite3

        uri = f"file:{database.file}?mode=ro" if read_only else f"file:{database.file}"
        self.connection = sqlite3.connect(uri, uri=True, detect_types=sqlite3.PARSE_DECLTYPES,
                                          check_same_thread=False)
        for name in ("date", "timestamp", "datetime"):
            sqlite3.register_converter(name, _when)

    def stream(self, sql: str, batch_rows: int, timeout_s: float | None) -> Iterator[pa.RecordBatch]:
        cursor = self.connection.execute(sql)
        names = [column[0] for column in cursor.description or ()]
        while rows := cursor.fetchmany(batch_rows):
            yield pa.RecordBatch.from_arrays([_column(values) for values in zip(*rows, strict=True)], names=names)

    def cancel(self) -> None:
        with suppress(Exception):
            self.connection.interrupt()

    def tables(self) -> list[str]:
        rows = self.connection.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY 1")
        return [row[0] for row in rows]

    def replace_table(self, name: str, data: pa.Table) -> None:
        from agent.tables.location import quote_name

        table = quote_name(name)
        columns = ", ".join(f"{quote_name(column)} {_affinity(kind)}" for column, kind in
                            zip(data.column_names, data.schema.types, strict=True))
        marks = ", ".join("?" * data.num_columns)
        with self.connection:  # one transaction: committed at the end, rolled back on any error
            self.connection.execute(f"DROP TABLE IF EXISTS {table}")
            self.connection.execute(f"CREATE TABLE {table} ({columns})")
            for batch in data.to_batches(65_536):
                rows = zip(*(column.to_pylist() for column in batch.columns), strict=True)
                self.connection.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)

    def close(self) -> None:
        with suppress(Exception):
            self.connection.close()


def _when(raw: bytes):
    """A DATE or TIMESTAMP value as a date or datetime when it is ISO text; as written otherwise."""
    import datetime as dt

    text = raw.decode(errors="replace")
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
    except ValueError:
        return text


def _column(values: tuple) -> pa.Array:
    """Arrow's type from the values; a column that mixes kinds (SQLite allows it) becomes text."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        return pa.array([None if value is None else str(value) for value in values], type=pa.string())


def _affinity(kind: pa.DataType) -> str:
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        return "INTEGER"
    if pa.types.is_floating(kind):
        return "REAL"
    return "TEXT"


def _bare(name: str) -> str:
    """A name without SQL quotes: ADBC quotes what it is given."""
    return re.sub(r'^"(.*)"$', r"\1", name)
