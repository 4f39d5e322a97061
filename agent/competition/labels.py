"""Labels as they come back from CSV files, JSON and libraries: one key under which 1, 1.0, '1' and True meet.

A class read from train.csv, written into a submission, parsed by the arena or returned by a model can change
type on the way (an int becomes a float, a bool a string); everything that compares labels compares their
`label_key`.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def native(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def label_key(value: Any) -> str:
    """Compare labels across CSV round trips: 1, 1.0, '1' and True/'True' must meet."""
    value = native(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    if text.lower() in ("true", "false"):
        return text.lower()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text
