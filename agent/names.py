"""Names read from files or typed by users that become one folder or file name: refused unless they are one.

A slug, a batch name or a run id is joined under a folder podium owns (`--out`, the cache); a name holding a
separator, `..` or a control character would put what podium writes somewhere else, so it is refused here,
naming the field, before anything is written.
"""

from __future__ import annotations

from typing import Any

from agent.errors import InputError

MAX_BYTES = 255  # NAME_MAX on Linux and macOS: a longer name cannot be created
FIX = "use one name of letters, digits, '-', '_' and '.' (no '/' or '\\', not '.' or '..'), e.g. my-competition"


def safe_component(value: Any, field: str, where: str | None = None) -> str:
    """`value` as one path component that stays inside its parent folder, or an InputError naming `field`."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # `slug: 2024` in YAML
    if not isinstance(value, str):
        raise InputError(f"The {field} must be text, not {type(value).__name__} ({value!r})", where=where, fix=FIX)
    problem = _problem(value)
    if problem:
        raise InputError(f"The {field} {value!r} cannot be a folder name: {problem}", where=where, fix=FIX)
    return value


def _problem(value: str) -> str | None:
    if not value.strip():
        return "it is empty"
    if value in (".", ".."):
        return "it names a folder itself, not a new one"
    if "/" in value or "\\" in value:
        return "it holds a path separator"
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        return "it holds a control character (a line break, a tab or a NUL)"
    if value != value.strip():
        return "it starts or ends with a space"
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        return "it is not valid Unicode text"
    if size > MAX_BYTES:
        return f"it is {size} bytes long; a file name holds at most {MAX_BYTES}"
    return None
