"""The optional request log: each request's input rows appended as one JSON line, for `podium monitor`.

Off by default: rows can be personal data. Only the model's input columns (and the id column) are kept, so
a client's extra fields never reach the disk. One line per request, `{"time": ..., "rows": [...]}`, written
whole by one `write` to a file opened for appending, so concurrent requests (threads or `--workers`
processes) never interleave and the monitor reader accepts every line.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path
from typing import Any

from agent.errors import InputError

log = logging.getLogger("podium.serve")


class RequestLog:
    """An append-only JSON-lines file shared by the server's threads and processes."""

    def __init__(self, path: str | Path, columns: list[str]):
        self.path = Path(path).expanduser()
        self.columns = list(columns)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise InputError(f"Cannot open the request log for appending ({exc.strerror})", where=str(self.path),
                             fix="pass a writable path to --request-log (or serve.request_log)") from exc

    def append(self, rows: list[dict[str, Any]]) -> None:
        """Write one request's rows; a failed write is logged, never turned into a failed prediction."""
        record = {"time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                  "rows": [{c: row[c] for c in self.columns if c in row} for row in rows]}
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        try:
            if self._fd is None:
                raise ValueError("the request log is closed")
            written = os.write(self._fd, line)
            if written != len(line):
                raise OSError(f"only {written} of {len(line)} bytes were written")
        except (OSError, ValueError) as exc:
            log.error("Could not append to the request log %s: %s", self.path, exc)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
