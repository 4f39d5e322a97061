"""Write a table (predictions) to a CSV or Parquet file, or to a database table, never half-written.

A file is written beside its place and moved in (agent/atomic.py); a database table is created or replaced in
one transaction, so a reader sees the old table or the new one. `check_output` is called before any work, so
a wrong path or a refused password fails first, not after the predictions are made.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from agent.atomic import write_csv, write_with
from agent.config import Settings
from agent.errors import InputError
from agent.outputs import output_file
from agent.tables.database import connection_error
from agent.tables.files import PARQUET_SUFFIXES
from agent.tables.location import Location, parse_location
from agent.tables.secrets import scrub


def check_output(target: str | os.PathLike, option: str = "--output") -> Location:
    """Where `target` will be written, checked now: a writable file path, or a database table podium can
    connect to (a query is refused)."""
    location = parse_location(target if isinstance(target, str) else Path(target), f"{option} table")
    if location.is_file:
        return Location(path=output_file(location.path, option))
    location.table  # noqa: B018 - refuses a query: only a named table can be written
    _connect(location).close()
    return location


def write_table(frame: pd.DataFrame, target: str | os.PathLike | Location, option: str = "--output") -> str:
    """Write `frame` to `target`; what was written, as shown to people (a URL without its password)."""
    location = target if isinstance(target, Location) else check_output(target, option)
    if location.is_file:
        if location.path.name.lower().endswith(PARQUET_SUFFIXES):
            write_with(location.path, lambda handle: frame.to_parquet(handle, index=False), binary=True)
        else:
            write_csv(location.path, frame)
        return str(location.path)
    import pyarrow as pa

    data = pa.Table.from_pandas(frame, preserve_index=False)
    driver = _connect(location)
    try:
        driver.replace_table(location.table, data)
    except Exception as exc:  # noqa: BLE001 - the driver's own classes; the transaction was rolled back
        raise InputError(f"Writing the table failed, nothing was written ({scrub(str(exc), location.database.url)})",
                         where=location.shown, fix="check that the user may create tables in that schema") from None
    finally:
        driver.close()
    return location.shown


def _connect(location: Location):
    from agent.tables.drivers import connect

    try:
        return connect(location.database, Settings().database.connect_timeout, read_only=False)
    except Exception as exc:  # noqa: BLE001
        raise connection_error(exc, location.database.url, location.database.shown) from None
