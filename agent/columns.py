"""Column names as model libraries accept them: a CSV header may hold anything, they may not.

LightGBM refuses JSON's special characters (`"`, `,`, `:`, `[`, `]`, `{`, `}`) and breaks on line breaks,
XGBoost refuses `[`, `]` and `<`, LightGBM turns spaces into `_` (so `a b` and `a_b` collide). Wherever a
check or a model hands a table to such a library, it hands it `encoded` names; everything a user reads
(findings, reports, importance, schema.json) keeps the original ones. A name of letters, digits, `_`, `.`
and `-` is its own encoding; any other becomes PREFIX + the hex of its UTF-8 bytes. The encoding is
one-to-one (no name kept as it is holds PREFIX), so `decoded` gives the original back.

AutoGluon copes with every such name but a line break (its LightGBM fails on one), and its predictor is
documented for users to load (`runs/.../models`), so AutoGluon sees `autogluon_name`s: only names with a line
break (or PREFIX) are encoded, any other keeps the name users see in their table.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

PREFIX = "col__"
_PLAIN = re.compile(r"[A-Za-z0-9_.\-]+")
_LINE_BREAK = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def encoded(name: str) -> str:
    """`name` as every model library accepts it."""
    name = str(name)
    if _PLAIN.fullmatch(name) and PREFIX not in name:
        return name
    return PREFIX + name.encode("utf-8", "surrogatepass").hex()


def autogluon_name(name: str) -> str:
    """`name` as AutoGluon is fitted on it: encoded only when it holds a line break (or PREFIX)."""
    name = str(name)
    return encoded(name) if _LINE_BREAK.search(name) or PREFIX in name else name


def decoded(name: str) -> str:
    """The original of an `encoded` name; in a name a library derived from one (AutoGluon's `<name>.year`),
    the encoded part is decoded and the rest kept."""
    return _ENCODED.sub(_decode_match, name)


_ENCODED = re.compile(re.escape(PREFIX) + r"((?:[0-9a-f]{2})+)")


def _decode_match(match: re.Match) -> str:
    try:
        return bytes.fromhex(match.group(1)).decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return match.group(0)


def with_encoded_names(frame: pd.DataFrame, encode: Callable[[str], str] = encoded) -> pd.DataFrame:
    """The same table (its data not copied) under encoded column names (`encode`: encoded, autogluon_name)."""
    out = frame.copy(deep=False)
    out.columns = [encode(name) for name in frame.columns]
    return out
