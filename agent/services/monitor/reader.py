"""Read the data to monitor: a CSV, or a JSON-lines request log (a row per line, or {"rows": [...]} per line)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from agent.errors import InputError
from agent.services import jsontext

JSON_SUFFIXES = {".jsonl", ".ndjson", ".json", ".log"}
FIX_JSON = ('write one JSON object per line: a row such as {"age": 41, "city": "Oslo"}, '
            'or a request such as {"rows": [{...}, {...}]}')


def read_new_data(path: str | Path) -> pd.DataFrame:
    """The rows in `path` as a DataFrame; any problem is an InputError naming the file (and line)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("The new data file does not exist", where=str(path),
                         fix="pass a CSV file or a JSON-lines request log")
    if path.stat().st_size == 0:
        raise InputError("The new data file is empty", where=str(path), fix="pass a file with data rows")
    if _looks_like_json(path):
        frame = pd.DataFrame.from_records(_json_rows(path))
    else:
        try:
            frame = pd.read_csv(path, low_memory=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"The new data is not a readable CSV table ({type(exc).__name__}: {exc})",
                             where=str(path), fix="pass a comma-separated file with a header row") from exc
    if frame.empty:
        raise InputError("The new data holds no rows", where=str(path), fix="pass a file with at least one data row")
    return frame


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
