"""The column screen of very wide tables: the informative columns survive, whatever their kind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agent.competition.dataset import Dataset
from strategies.production.problem import screen_features


def wide(y: np.ndarray, informative: dict[str, np.ndarray], noise: int = 3000) -> Dataset:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(len(y), noise)), columns=[f"n{i}" for i in range(noise)])
    for name, values in informative.items():
        frame.insert(int(rng.integers(0, noise)), name, values)
    return Dataset(X=frame, y=y, labels=pd.Series(y), X_test=frame.iloc[:5], test_ids=pd.Series(range(5)),
                   folds=np.arange(len(y)) % 5)


@pytest.mark.parametrize("kind", ["regression", "binary", "multiclass"])
def test_the_screen_keeps_numeric_and_text_columns_that_carry_the_target(kind):
    rng = np.random.default_rng(0)
    n = 400
    signal, group = rng.normal(size=n), rng.choice(list("abcd"), size=n)
    effect = signal + (group == "a") * 2.0
    y = {"regression": effect, "binary": (effect > 0.5).astype(int),
         "multiclass": np.digitize(effect, [-0.5, 0.5, 1.5])}[kind]
    missing = signal.copy()
    missing[::7] = np.nan  # missing values do not knock a column out
    data = wide(y, {"signal": signal, "group": group.astype(object), "with_gaps": missing})
    kept = screen_features(data, 50)
    assert len(kept) == 50 and {"signal", "group", "with_gaps"} <= set(kept)
    assert kept == [c for c in data.X.columns if c in set(kept)]  # table order


def test_a_table_within_the_limit_is_kept_whole():
    data = wide(np.arange(100, dtype=float), {}, noise=20)
    assert screen_features(data, 20) == list(data.X.columns)
