"""Numbers and values as short strings; every formatter takes anything and answers "–" for nothing usable.

Manifests come from older and newer podium versions and from killed runs, so a field may be absent,
None, NaN or of another type: the report shows a dash instead of failing.
"""

from __future__ import annotations

import json
import math
from typing import Any

DASH = "–"
NOT_MEASURED = "not measured"


def number(value: Any) -> float | None:
    """A finite float, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def score(value: Any) -> str:
    x = number(value)
    if x is None:
        return DASH
    return f"{x:,.2f}" if abs(x) >= 1000 else f"{x:.5g}"


def signed(value: Any) -> str:
    x = number(value)
    return DASH if x is None else f"{x:+.4g}"


def seconds(value: Any) -> str:
    x = number(value)
    if x is None:
        return DASH
    if x >= 120:
        return f"{x / 60:.1f} min"
    return f"{x:.2f} s" if x < 10 else f"{x:.1f} s"


def cpu(value: Any) -> str:
    """CPU-seconds kept in seconds (a cost per million predictions reads better as 4,000 s than as 66.7 min)."""
    x = number(value)
    if x is None:
        return DASH
    return f"{x:,.0f} s" if x >= 100 else f"{x:.3g} s"


def ms(value: Any) -> str:
    x = number(value)
    if x is None:
        return DASH
    return f"{x:.3f} ms" if x < 10 else f"{x:,.1f} ms"


def size(value: Any) -> str:
    x = number(value)
    if x is None:
        return DASH
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if x >= scale:
            return f"{x / scale:.3g} {unit}"
    return f"{int(x)} bytes"


def rate(value: Any, unit: str = "rows/s") -> str:
    x = number(value)
    return DASH if x is None else f"{x:,.0f} {unit}"


def share(value: Any) -> str:
    x = number(value)
    return DASH if x is None else f"{x:.1%}"


def plain(value: Any, limit: int = 300) -> str:
    """Any value as one line of text, shortened to `limit` characters."""
    if value is None:
        return DASH
    if isinstance(value, float):
        text = score(value)
    elif isinstance(value, str):
        text = value
    elif isinstance(value, list | tuple):
        text = ", ".join(plain(v, limit) for v in value) or DASH
    elif isinstance(value, dict):
        text = json.dumps(value, default=str, separators=(", ", ": "))
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def listing(values: Any, limit: int = 12) -> str:
    """A comma-separated list, the first `limit` items and how many more."""
    if not isinstance(values, list | tuple):
        return plain(values)
    shown = ", ".join(plain(v, 80) for v in values[:limit])
    more = len(values) - limit
    return (shown + (f" (+{more} more)" if more > 0 else "")) or DASH


def measured(values: Any, limit: int = 220) -> str:
    """A check's measurements: scalars as key=value, nested values compacted, long text shortened."""
    if not isinstance(values, dict):
        return plain(values, limit)
    parts = []
    for key, value in values.items():
        if isinstance(value, float):
            parts.append(f"{key}={value:.4g}")
        elif isinstance(value, list | tuple):
            parts.append(f"{key}=[{listing(value, 3)}]")
        else:
            parts.append(f"{key}={plain(value, 80)}")
    return plain("; ".join(parts), limit)


def mapping(value: Any) -> dict[str, Any]:
    """`value` if it is a dict, else an empty one: lets builders read optional nested fields in one line."""
    return value if isinstance(value, dict) else {}
