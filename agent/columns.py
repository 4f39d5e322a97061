"""Column names as model libraries accept them: a CSV header may hold anything, they may not.

LightGBM refuses JSON's special characters (`"`, `,`, `:`, `[`, `]`, `{`, `}`) and breaks on line breaks,
XGBoost refuses `[`, `]` and `<`, LightGBM turns spaces into `_` (so `a b` and `a_b` collide). Wherever a
check or a model hands a table to such a library, it hands it `encoded` names; everything a user reads
(findings, reports, importance, schema.json) keeps the original ones. A name of letters, digits, `_`, `.`
and `-` is its own encoding; any other becomes PREFIX + the hex of its UTF-8 bytes. The encoding is
one-to-one (no plain name starts with PREFIX), so `decoded` gives the original back.
"""

from __future__ import annotations

import re

import pandas as pd

PREFIX = "col__"
_PLAIN = re.compile(r"[A-Za-z0-9_.\-]+")


def encoded(name: str) -> str:
    """`name` as every model library accepts it."""
    name = str(name)
    if _PLAIN.fullmatch(name) and not name.startswith(PREFIX):
        return name
    return PREFIX + name.encode("utf-8", "surrogatepass").hex()


def decoded(name: str) -> str:
    """The original of an `encoded` name."""
    if name.startswith(PREFIX):
        return bytes.fromhex(name[len(PREFIX):]).decode("utf-8", "surrogatepass")
    return name


def with_encoded_names(frame: pd.DataFrame) -> pd.DataFrame:
    """The same table (its data not copied) under encoded column names."""
    out = frame.copy(deep=False)
    out.columns = [encoded(name) for name in frame.columns]
    return out
