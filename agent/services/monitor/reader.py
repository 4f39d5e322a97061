"""Read the data to monitor: a CSV or Parquet file or a database table or query (agent/tables: a table over
database.max_rows is read as a reported sample), or a JSON-lines request log (a row per line, or {"rows": [...]}
per line)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from agent.errors import InputError
from agent.services import jsontext
from agent.tables import Read, is_url, read

JSON_SUFFIXES = {".jsonl", ".ndjson", ".json", ".log"}
FIX_JSON = ('write one JSON object per line: a row such as {"age": 41, "city": "Oslo"}, '
            'or a request such as {"rows": [{...}, {...}]}')


def read_new_data(source: str | Path) -> pd.DataFrame:
    """The rows at `source` as a DataFrame; any problem is an InputError naming the file (and line) or table."""
    return read_monitored(source).frame


def read_monitored(source: str | Path) -> Read:
    """The rows at `source`, and what was read (the query, the rows, whether a sample: for drift.json)."""
    if is_url(source):
        return read(source, "new data", sample=True)
    path = Path(source)
    if not path.is_file():
        raise InputError("The new data file does not exist", where=str(path),
                         fix="pass a CSV or Parquet file, a JSON-lines request log, or a database URL#table")
    if path.stat().st_size == 0:
        raise InputError("The new data file is empty", where=str(path), fix="pass a file with data rows")
    if not _looks_like_json(path):
        return read(path, "new data")
    frame = pd.DataFrame.from_records(_json_rows(path))
    if frame.empty:
        raise InputError("The new data holds no rows", where=str(path), fix="pass a file with at least one data row")
    return Read(frame, {"role": "new data", "source": str(path), "format": "jsonl", "rows": len(frame)})


def _looks_like_json(path: Path) -> bool:
    if path.suffix.lower() in JSON_SUFFIXES:
        return True
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip()
    return head[:1] in (b"{", b"[")


def _json_rows(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"The request log is not UTF-8 text ({exc})", where=str(path), fix=FIX_JSON) from exc
    try:  # a whole-file JSON document ({"rows": [...]} or [...]) spread over several lines
        return _rows_of(jsontext.loads(text, allow_nan=True), f"{path}")
    except jsontext.JSONProblem:
        pass  # one record per line: the line at fault is named below
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = jsontext.loads(line, allow_nan=True)
        except jsontext.JSONProblem as problem:
            detail = problem.detail.replace("at line 1, column", "at column")
            raise InputError(f"Line {number} is not valid JSON ({detail})", where=f"{path}, line {number}",
                             fix=FIX_JSON) from None
        rows.extend(_rows_of(record, f"{path}, line {number}"))
    return rows


def _rows_of(record: Any, where: str) -> list[dict[str, Any]]:
    """A record is a row (object), a list of rows, or an object holding its rows under "rows"."""
    if isinstance(record, dict) and "rows" in record:
        record = record["rows"]
    if isinstance(record, dict):
        return [record]
    if isinstance(record, list) and all(isinstance(row, dict) for row in record):
        return record
    raise InputError(f"Expected a JSON object per row, found {type(record).__name__}", where=where, fix=FIX_JSON)
