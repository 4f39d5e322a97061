"""A reference profile of the training data, saved beside the model so new data can be compared with it later.

Numeric features keep quantile cut points and the share of rows between them; categorical features keep the
shares of their most frequent categories, one "other" share for the rest, and the full list of values seen
(up to a cap) so unseen categories can be told from rare ones. Everything is plain JSON, a typed record
(agent/records.py).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from agent.competition.labels import label_key
from agent.errors import InputError
from agent.records import Record

REFERENCE_PROFILE = "reference_profile.json"
FORMAT = "podium.reference_profile"
VERSION = 1
NUMERIC, CATEGORICAL = "numeric", "categorical"
MAX_KNOWN_VALUES = 10_000  # beyond this, a column is an id or free text: unseen shares are not computed


def feature_kind(values: pd.Series) -> str:
    """numeric for numbers (not booleans: True/False are categories), categorical for everything else."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return NUMERIC
    return CATEGORICAL


def category_keys(values: pd.Series) -> pd.Series:
    """Each value as the text podium compares labels by (1, 1.0 and '1' meet), None where missing or blank."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    keys = [label_key(u) for u in uniques]
    table = np.array([k if k != "" else None for k in keys] + [None], dtype=object)
    return pd.Series(table[codes], index=values.index, dtype=object)


def numeric_values(values: pd.Series) -> tuple[np.ndarray, int]:
    """Values as floats (NaN where missing or not a number) and how many present values were not numbers."""
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype("float64")
        return numbers.to_numpy(na_value=np.nan), 0
    present = values.notna() & (values.astype(str).str.strip() != "")
    numbers = pd.to_numeric(values.where(present), errors="coerce")
    return numbers.to_numpy(dtype=float, na_value=np.nan), int((present & numbers.isna()).sum())


class FeatureProfile(BaseModel):
    """One feature's reference distribution."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["numeric", "categorical"]
    missing_rate: float
    # numeric: bins are (-inf, edges[0]), [edges[0], edges[1]), ..., [edges[-1], inf)
    edges: list[float] = []
    proportions: list[float] = []
    min: float | None = None
    max: float | None = None
    # categorical: shares among present values; `other` covers every category not listed
    categories: dict[str, float] = {}
    other: float = 0.0
    other_values: list[str] = []
    values_complete: bool = True  # False: too many distinct values to list; unseen shares are unknown

    @property
    def known(self) -> set[str]:
        return set(self.categories) | set(self.other_values)


class Profile(Record):
    """Per-feature reference distributions of the data a model was trained on: reference_profile.json."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    FORMAT: ClassVar[str] = FORMAT
    VERSION: ClassVar[int] = VERSION
    TITLE: ClassVar[str] = "reference profile"
    FIX: ClassVar[str] = (f"pass the production model's artifact folder, which holds {REFERENCE_PROFILE}; models "
                          "exported before monitoring existed (or whose profile is damaged) need exporting again")

    created: str = ""
    rows: int
    features: dict[str, FeatureProfile]

    def save(self, path: str | os.PathLike) -> Path:
        """Write atomically: a monitor reading at the same moment sees the old profile or the new one."""
        return self.write(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Profile:
        return cls.read(path)


def profile_frame(frame: pd.DataFrame, features: list[str] | tuple[str, ...], bins: int = 10,
                  max_categories: int = 50) -> Profile:
    """Profile `features` of `frame` (the training data) as the reference for drift monitoring."""
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise InputError(f"Cannot profile feature(s) {missing}: the frame has no such column")
    if frame.empty:
        raise InputError("Cannot profile an empty frame: the reference needs training rows")
    profiles = {}
    for name in features:
        values = frame[name]
        if feature_kind(values) == NUMERIC:
            profiles[name] = _numeric_profile(values, bins)
        else:
            profiles[name] = _categorical_profile(values, max_categories)
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Profile(features=profiles, rows=len(frame), created=created)


def _numeric_profile(values: pd.Series, bins: int) -> FeatureProfile:
    numbers, _ = numeric_values(values)
    present = numbers[np.isfinite(numbers)]
    missing_rate = float(1 - len(present) / len(numbers))
    if not len(present):
        return FeatureProfile(kind=NUMERIC, missing_rate=missing_rate)
    edges = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1]))
    counts = np.bincount(np.searchsorted(edges, present, side="right"), minlength=len(edges) + 1)
    return FeatureProfile(kind=NUMERIC, missing_rate=missing_rate, edges=[float(e) for e in edges],
                          proportions=[float(c) for c in counts / len(present)],
                          min=float(present.min()), max=float(present.max()))


def _categorical_profile(values: pd.Series, max_categories: int) -> FeatureProfile:
    keys = category_keys(values)
    present = keys.dropna()
    missing_rate = float(1 - len(present) / len(keys))
    shares = present.value_counts(normalize=True)
    top = shares.iloc[:max_categories]
    rest = shares.index[max_categories:]
    complete = len(rest) <= MAX_KNOWN_VALUES
    return FeatureProfile(kind=CATEGORICAL, missing_rate=missing_rate,
                          categories={str(k): float(v) for k, v in top.items()},
                          other=float(shares.iloc[max_categories:].sum()),
                          other_values=[str(k) for k in rest[:MAX_KNOWN_VALUES]] if complete else [],
                          values_complete=complete)
