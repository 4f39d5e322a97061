"""JSON from text a client or a log file supplies: every failure is a JSONProblem, never a RecursionError.

`podium serve` (a request body) and `podium monitor` (a request-log line) parse through here, so a line
nested 100,000 deep is the same clear refusal in both: a 400 there, exit code 2 with the line number here.
"""

from __future__ import annotations

import json
from typing import Any

SYNTAX, CONSTANT, DEPTH = "syntax", "constant", "depth"


class JSONProblem(ValueError):
    """Text that is no (strict) JSON: `kind` says why (SYNTAX, CONSTANT for NaN/Infinity, DEPTH), `detail` how."""

    def __init__(self, kind: str, detail: str):
        super().__init__(detail)
        self.kind, self.detail = kind, detail


def _reject_constant(name: str) -> Any:
    raise JSONProblem(CONSTANT, f"{name} is not valid JSON")


def loads(text: str, allow_nan: bool = False) -> Any:
    """Parse `text`; `allow_nan` accepts Python's NaN and Infinity (standard JSON has neither)."""
    try:
        return json.loads(text, **({} if allow_nan else {"parse_constant": _reject_constant}))
    except json.JSONDecodeError as exc:
        raise JSONProblem(SYNTAX, f"{exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise JSONProblem(DEPTH, "it nests arrays or objects too deeply") from None
