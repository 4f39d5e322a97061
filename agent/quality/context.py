"""What every data check reads: the competition, its tables, the thresholds, and column kinds computed once."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from agent.competition import Competition
from agent.config import QualitySettings

NUMERIC, TEXT, DATETIME = "numeric", "text", "datetime"


def column_kind(series: pd.Series) -> str:
    """numeric (bool counts: models see 0/1), datetime, or text (strings, categories, mixed objects)."""
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return NUMERIC
    if pd.api.types.is_datetime64_any_dtype(series):
        return DATETIME
    return TEXT


def sample_positions(length: int, rows: int, seed: int) -> np.ndarray:
    """At most `rows` positions in increasing order, drawn without replacement: slow checks cost the same on any
    table."""
    if length <= rows:
        return np.arange(length)
    return np.sort(np.random.default_rng(seed).choice(length, size=rows, replace=False))


@dataclass
class CheckContext:
    competition: Competition
    train: pd.DataFrame
    test: pd.DataFrame
    settings: QualitySettings
    seed: int = 0
    n_jobs: int = 1
    cache: dict = field(default_factory=dict)  # work shared between checks, e.g. the leakage sample

    @property
    def features(self) -> list[str]:
        return list(self.competition.features)

    @cached_property
    def kinds(self) -> dict[str, str]:
        return {c: column_kind(self.train[c]) for c in self.features}

    @cached_property
    def text_features(self) -> list[str]:
        """Features read as text in train and test alike (a mixed pair is the type check's business)."""
        return [c for c in self.features if self.kinds[c] == TEXT and column_kind(self.test[c]) == TEXT]

    @cached_property
    def labelled(self) -> pd.DataFrame:
        """Train rows with a target, in file order (row order matters to one check)."""
        return self.train[self.train[self.competition.target].notna()]
