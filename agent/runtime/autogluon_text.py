"""AutoGluon's text features recomputed from raw text, so its models that read them serve without AutoGluon.

For a free-text column AutoGluon's feature pipeline adds its statistics (`TextSpecialFeatureGenerator`: length in
characters and words, shares of capitals, lower-case letters, digits and other symbols, counts and shares of
frequent symbols), each cut into AutoGluon's bins (`BinnedFeatureGenerator`: `np.digitize(..., right=True)`), and
the counts of the words and word n-grams of all text columns joined by ". " (`TextNgramFeatureGenerator`, a fitted
`CountVectorizer`), with the number of distinct n-grams found (`_total_`). A missing text is AutoGluon's fill value
first (''). Every number is computed here as AutoGluon computes it (dtypes included), one row at a time, so a
table and a served row get the same numbers; strategies/production/autogluon_features.py reads the fitted
pipeline into this form, and a served model must predict as AutoGluon does before it counts.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import Counter
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

Stat = Literal["char_count", "word_count", "capital_ratio", "lower_ratio", "digit_ratio", "special_ratio",
               "symbol_count", "symbol_ratio"]
COUNT_WRAP = 256  # AutoGluon's vectorizer counts in uint8


class TextStatistic(BaseModel):
    """One binned statistic of one text column (`name` as AutoGluon's features call it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    column: str
    stat: Stat
    symbol: str | None = None
    bins: tuple[float, ...]


class NGrams(BaseModel):
    """AutoGluon's fitted vectorizer over `columns` joined by ". ": the n-grams it counts and the features
    (`features`: name -> n-gram, None for the number of distinct n-grams found)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    columns: tuple[str, ...]
    vocabulary: tuple[str, ...]
    ngram_range: tuple[int, int]
    lowercase: bool
    token_pattern: str
    features: dict[str, str | None]


class AutoGluonText(BaseModel):
    """The text features a served AutoGluon model reads, and how to compute them from raw values."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    fill: str = ""
    statistics: tuple[TextStatistic, ...] = ()
    ngrams: NGrams | None = None

    @cached_property
    def names(self) -> list[str]:
        return [s.name for s in self.statistics] + list(self.ngrams.features if self.ngrams else [])

    @cached_property
    def sources(self) -> dict[str, list[str]]:
        """Each feature with the raw columns it is computed from."""
        out = {s.name: [s.column] for s in self.statistics}
        if self.ngrams:
            out |= {name: list(self.ngrams.columns) for name in self.ngrams.features}
        return out

    @cached_property
    def columns(self) -> list[str]:
        return list(dict.fromkeys(c for columns in self.sources.values() for c in columns))

    @cached_property
    def _by_column(self) -> tuple[tuple[str, tuple[TextStatistic, ...]], ...]:
        columns = dict.fromkeys(s.column for s in self.statistics)
        return tuple((c, tuple(s for s in self.statistics if s.column == c)) for c in columns)

    def values(self, record: dict[str, Any]) -> dict[str, float]:
        """The features of one raw row."""
        texts = {column: self._text(record.get(column)) for column in self.columns}
        out = {}
        for column, statistics in self._by_column:
            text = texts[column]
            shares = _shares(text)
            for s in statistics:  # AutoGluon's bin, np.digitize(right=True): the bin edges below the value
                out[s.name] = float(bisect_left(s.bins, float(_statistic(s, text, shares))))
        if self.ngrams:
            out |= self._ngram_values(". ".join(texts[c] for c in self.ngrams.columns))
        return out

    def frame(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The features of a table's rows (computed row by row, exactly as for one served row)."""
        records = rows[[c for c in self.columns if c in rows.columns]].to_dict("records")
        return pd.DataFrame([self.values(r) for r in records], index=rows.index, columns=self.names, dtype=float)

    def _text(self, value: Any) -> str:
        missing = value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
        return self.fill if missing else str(value)

    @cached_property
    def _tokens(self) -> re.Pattern:
        return re.compile(self.ngrams.token_pattern)

    @cached_property
    def _counted(self) -> frozenset[str]:
        return frozenset(self.ngrams.vocabulary)

    def _ngram_values(self, text: str) -> dict[str, float]:
        """sklearn's word analyzer (lower-case, the token pattern, n-grams of the tokens), counted in uint8."""
        low, high = self.ngrams.ngram_range
        tokens = self._tokens.findall(text.lower() if self.ngrams.lowercase else text)
        grams = Counter()
        for n in range(low, min(high, len(tokens)) + 1):
            grams.update(g for g in (" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
                         if g in self._counted)
        counts = {g: c % COUNT_WRAP for g, c in grams.items()}
        total = sum(1 for c in counts.values() if c)
        return {name: float(total if gram is None else counts.get(gram, 0))
                for name, gram in self.ngrams.features.items()}


_SHARES = {"capital_ratio": re.compile("[A-Z]"), "lower_ratio": re.compile("[a-z]"),
           "digit_ratio": re.compile("[0-9]"), "special_ratio": re.compile(r"[^\w]")}


def _shares(text: str) -> dict[str, np.float32]:
    """The shares of capitals, lower-case letters, digits and other symbols among the text's characters other
    than spaces, in float32 (0 for a text of spaces only)."""
    squeezed = text.replace(" ", "")
    if not squeezed:
        return dict.fromkeys(_SHARES, np.float32(0.0))
    return {stat: np.float32(len(pattern.findall(squeezed)) / len(squeezed)) for stat, pattern in _SHARES.items()}


def _statistic(statistic: TextStatistic, text: str, shares: dict[str, np.float32]) -> np.number:
    """One statistic as TextSpecialFeatureGenerator computes it: counts in uint32, shares in float32."""
    stat = statistic.stat
    if stat == "char_count":
        return np.uint32(len(text))
    if stat == "word_count":
        return np.uint32(len(text.split()))
    if stat in ("symbol_count", "symbol_ratio"):
        count = text.count(statistic.symbol)
        if stat == "symbol_count":
            return np.uint32(count)
        return np.float32(count / len(text)) if text else np.float32(0.0)
    return shares[stat]
