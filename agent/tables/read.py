"""The one reader of a table, wherever it lives: a CSV or Parquet file, or a database table or query.

Everything that reads a table (a run's competition, `podium predict`, `monitor`, `retrain --data`, `arena
prepare`) calls `read_table` (or `read`, which also says what was read, for a manifest), so each place gets the
same bounds, the same column checks and the same types.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from agent.config import DatabaseSettings, Limits, Settings
from agent.deadline import Deadline
from agent.errors import InputError
from agent.tables.database import Bounds, Read, read_query
from agent.tables.files import is_parquet, read_file
from agent.tables.location import Location, parse_location


def read(source: str | Path | Location, role: str = "table", limits: Limits | None = None, *, sample: bool = False,
         deadline: Deadline | None = None, settings: Settings | None = None,
         deadline_setting: str = "database.timeout", min_columns: int = 1) -> Read:
    """The table at `source` (a path, a database URL#table-or-query, or a parsed Location) within the bounds.

    `sample`: a database table over database.max_rows may be read as its first rows (reported) instead of
    refused. `deadline`: when reading from a database must end (default: database.timeout from now).
    `min_columns`: fewer columns (or no rows) is not a table of this role (a competition's tables: 2).
    """
    location = source if isinstance(source, Location) else parse_location(source, role)
    settings = settings or Settings()
    limits = limits or settings.table_limits()
    if location.is_file:
        frame = read_file(location.path, role, limits)
        result = Read(frame, {"role": role, "source": str(location.path),
                              "format": "parquet" if is_parquet(location.path) else "csv",
                              "bytes": location.path.stat().st_size, "rows": len(frame), "columns": frame.shape[1]})
    else:
        options: DatabaseSettings = settings.database
        bounds = Bounds(limits=limits, max_rows=options.max_rows, sample=sample,
                        deadline=deadline or Deadline.after(options.timeout), batch_rows=options.batch_rows,
                        connect_timeout_s=options.connect_timeout, deadline_setting=deadline_setting)
        result = read_query(location, role, bounds)
    frame = result.frame
    if frame.empty:
        raise InputError(f"The {role} holds no rows ({frame.shape[1]} column(s))", where=location.shown,
                         fix="pass a table with at least one data row")
    if frame.shape[1] < min_columns:
        raise InputError(f"The {role} has {frame.shape[1]} column(s) and {len(frame)} row(s): not a competition "
                         "table", where=location.shown, fix="check that it is a comma-separated file with a header "
                                                             "row and data rows")
    return result


def read_table(source: str | Path | Location, role: str = "table", limits: Limits | None = None,
               **options) -> pd.DataFrame:
    """The table at `source` as a DataFrame (see `read`)."""
    return read(source, role, limits, **options).frame
