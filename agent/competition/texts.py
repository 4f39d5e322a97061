"""Free text is words: a column of names, titles or descriptions turned into numbers the compact models can read.

A text column read as a category has a value per row, so a production model learns nothing from it (every value
is "other"), while the words in it often carry the signal (a title in a name, a word in a product's name).
`detect_texts` finds the columns with more distinct values than categories can code and the words that recur
in them; `expand_texts` adds, beside each such column, one indicator per recurring word and the value's length
in characters and words. The vocabulary is learned from the training features alone (no target), and a
served row's text becomes the same numbers through `expand_text_record`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

import pandas as pd

WORD = re.compile(r"\w+")
MIN_DISTINCT = 64     # a column with at most this many values is a category: the encoder codes each of them
MIN_ROWS = 10         # a word must appear in at least this many rows (and MIN_SHARE of them) to be read
MIN_SHARE = 0.005
MAX_SHARE = 0.99      # a word in (nearly) every row tells nothing
MAX_WORDS = 32        # words read per column, the most frequent first
MAX_COLUMNS = 8       # text columns read per table: each costs a tokenisation per served row
LENGTHS = ("chars", "words")


def part_names(column: str, words: list[str]) -> list[str]:
    """The numbers a text column adds, in order: its length in characters and words, then one per word."""
    return [f"{column}.{length}" for length in LENGTHS] + [f"{column}.word.{word}" for word in words]


def words_of(value: Any) -> list[str] | None:
    """The words of a value, lower-cased (None where the value is missing or blank)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip().lower()
    return WORD.findall(text) if text else None


def detect_texts(frame: pd.DataFrame, columns: list[str] | None = None) -> dict[str, list[str]]:
    """The free-text columns among `columns` (default: all), each with the words it recurs with, most frequent
    first. Numbers and columns whose values are few enough to be categories are never text; a column of ids
    (no word shared by enough rows) is not either."""
    found: dict[str, list[str]] = {}
    kinds = frame.dtypes
    for column in columns if columns is not None else list(frame.columns):
        if len(found) == MAX_COLUMNS:
            break
        kind = kinds[column]
        if not (kind.kind == "O" or pd.api.types.is_string_dtype(kind) or isinstance(kind, pd.CategoricalDtype)):
            continue
        values = frame[column].dropna()
        if values.nunique() <= MIN_DISTINCT:
            continue
        words = _vocabulary(values)
        if words and not set(part_names(column, words)) & set(frame.columns):  # never shadow a column
            found[column] = words
    return found


def _vocabulary(values: pd.Series) -> list[str]:
    documents = [set(w) for w in map(words_of, values) if w]
    if not documents:
        return []
    counts = Counter(w for doc in documents for w in doc)
    low, high = max(MIN_ROWS, MIN_SHARE * len(documents)), MAX_SHARE * len(documents)
    kept = sorted((-n, w) for w, n in counts.items() if low <= n <= high)  # ties by the word: the same every run
    return [w for _, w in kept[:MAX_WORDS]]


def expand_texts(frame: pd.DataFrame, texts: dict[str, list[str]]) -> pd.DataFrame:
    """`frame` with each text column's parts added right after it (floats, NaN where the text is missing); parts
    already in `frame` (rows derived once before) are computed afresh, never doubled."""
    if not texts:
        return frame
    frame = frame.drop(columns=[n for c, w in texts.items() for n in part_names(c, w)], errors="ignore")
    pieces = []
    for column in frame.columns:
        pieces.append(frame[[column]])
        if column in texts:
            pieces.append(_parts(frame[column], texts[column], column))
    return pd.concat(pieces, axis=1)


def _parts(values: pd.Series, words: list[str], column: str) -> pd.DataFrame:
    numbers = [_numbers(value, words) for value in values.to_numpy(dtype=object)]
    return pd.DataFrame(numbers, index=values.index, columns=part_names(column, words), dtype=float)


def _numbers(value: Any, words: list[str]) -> list[float]:
    """One value's parts, in `part_names` order: the one computation behind tables and served rows alike."""
    tokens = words_of(value)
    if tokens is None:
        return [math.nan] * (len(LENGTHS) + len(words))
    seen = set(tokens)
    return [float(len(str(value).strip())), float(len(tokens))] + [1.0 if word in seen else 0.0 for word in words]


def expand_text_record(record: dict[str, Any], texts: dict[str, list[str]],
                       names: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """One served row with its text columns' parts added (the same numbers `expand_texts` gives a table);
    `names`, each column's `part_names`, saves making them per row."""
    out = dict(record)
    for column, words in texts.items():
        if column in record:  # else the schema's column check names what is missing
            parts = names[column] if names is not None else part_names(column, words)
            out.update(zip(parts, _numbers(record[column], words), strict=True))
    return out
