"""From a request body to rows a production model accepts, or a 4xx error that says what, where and what to do.

Accepted bodies (JSON, UTF-8): `{"rows": [{...}, ...]}`, a bare list of row objects, or one row object.
Each row must carry every column of the artifact's schema.json; extra keys are ignored. Values must be JSON
scalars: numbers (or numeric strings, booleans as 0/1) in numeric columns, any scalar in categorical columns,
null or "" for missing. Unseen categories follow the artifact's policy: the "other" code with a warning, or
an error when schema.json says `unseen_categories: error`.
"""

from __future__ import annotations

import math
from typing import Any

from agent.runtime.schema import Schema, category_key, is_missing
from agent.services import jsontext

MAX_DETAILS = 20
FIX_BODY = 'send {"rows": [{"column": value, ...}, ...]} (or a list of row objects, or one row object)'


class RequestError(Exception):
    """Bad input: an HTTP status, one sentence, the specific problems and what to do."""

    def __init__(self, status: int, message: str, details: list[str] | None = None, fix: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = list(details or [])
        self.fix = fix

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message, "details": self.details}
        if self.fix:
            body["fix"] = self.fix
        return body


def parse_json(body: bytes) -> Any:
    """Strict JSON (no NaN or Infinity, which standard JSON lacks); a 400 naming line and column otherwise."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(400, f"The request body is not UTF-8 text ({exc.reason} at byte {exc.start})",
                           fix="send JSON encoded as UTF-8") from None
    if not text.strip():
        raise RequestError(400, "The request body is empty", fix=FIX_BODY)
    try:
        return jsontext.loads(text)
    except jsontext.JSONProblem as problem:
        if problem.kind == jsontext.DEPTH:
            raise RequestError(400, "The request body nests JSON too deeply", fix=FIX_BODY) from None
        fix = "send null (or an empty string) for a missing value" if problem.kind == jsontext.CONSTANT else FIX_BODY
        raise RequestError(400, f"The request body is not valid JSON: {problem.detail}", fix=fix) from None


def extract_rows(payload: Any, max_rows: int) -> list[dict[str, Any]]:
    """The rows of a parsed body; the shape is checked, not the values."""
    if isinstance(payload, dict) and "rows" in payload:
        payload = payload["rows"]
        if not isinstance(payload, list):
            raise RequestError(400, f'"rows" must be a list of row objects, not {_json_type(payload)}', fix=FIX_BODY)
    elif isinstance(payload, dict):
        payload = [payload]
    elif not isinstance(payload, list):
        raise RequestError(400, f"Expected a JSON object or a list of objects, got {_json_type(payload)}",
                           fix=FIX_BODY)
    if not payload:
        raise RequestError(400, "The request holds no rows", fix=FIX_BODY)
    if len(payload) > max_rows:
        raise RequestError(413, f"The request holds {len(payload)} rows; this server accepts at most {max_rows}",
                           fix=f"split the rows into requests of at most {max_rows} (serve.max_rows)")
    bad = [f"row {i}: {_json_type(row)}, not an object" for i, row in enumerate(payload) if not isinstance(row, dict)]
    if bad:
        raise RequestError(400, "Every row must be a JSON object of column: value", _capped(bad), fix=FIX_BODY)
    return payload


def validate_rows(rows: list[dict[str, Any]], schema: Schema) -> list[str]:
    """Check every value against the schema; raise a 422 listing the problems, or return warnings."""
    problems: list[str] = []
    unseen: dict[str, int] = {}
    for r, row in enumerate(rows):
        missing = [name for name in schema.names if name not in row]
        if missing:
            shown = missing[:10] + (["..."] if len(missing) > 10 else [])
            problems.append(f"row {r}: missing column(s) {shown}")
        for name, numeric, allowed in schema.value_checks:
            if name not in row:
                continue
            problem = _check_value(row[name], name, numeric, allowed, unseen)
            if problem:
                problems.append(f"row {r}, column '{name}': {problem}")
        if len(problems) > MAX_DETAILS:
            break
    if unseen and schema.unseen == "error":
        problems += [f"column '{name}': {count} value(s) never seen in training (this model refuses unseen "
                     "categories)" for name, count in unseen.items()]
    if problems:
        raise RequestError(422, f"The rows do not match the model's input schema ({len(problems)} problem(s)"
                           + (" at least" if len(problems) > MAX_DETAILS else "") + ")", _capped(problems),
                           fix="send every column listed by GET /health, numbers in numeric columns, null for "
                               "missing values, and scalars only (no nested objects or lists)")
    return [f"{count} value(s) of '{name}' were never seen in training: treated like rare categories"
            for name, count in unseen.items()]


def _check_value(value: Any, name: str, numeric: bool, allowed: frozenset[str] | None,
                 unseen: dict[str, int]) -> str | None:
    if isinstance(value, dict | list):
        return f"nested JSON ({_json_type(value)}) is not a value; send a number, a string or null"
    if is_missing(value):
        return None
    if numeric:
        return _check_number(value)
    if allowed is not None and category_key(value) not in allowed:
        unseen[name] = unseen.get(name, 0) + 1
    return None


def _check_number(value: Any) -> str | None:
    if isinstance(value, bool):
        return None  # 0 / 1, as load_model reads it
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return f"expects a number, got the string {value[:40]!r}"
    else:
        try:
            number = float(value)
        except OverflowError:
            return "the number is too large"
    if math.isinf(number):
        return "the number is infinite or too large"
    return None


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _capped(items: list[str]) -> list[str]:
    if len(items) <= MAX_DETAILS:
        return items
    return items[:MAX_DETAILS] + [f"... and more ({len(items) - MAX_DETAILS}+ not shown)"]
