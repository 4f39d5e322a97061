"""The planner's predict reserve: sized from the test set, bounded, and overridable from the configuration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agent.config import load_settings
from agent.dataset import Dataset
from agent.errors import ConfigError
from agent.leaderboard import MAX_PREDICT_RESERVE, MIN_PREDICT_RESERVE, predict_reserve


def dataset(train_rows: int, test_rows: int, folds: int = 8) -> Dataset:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=train_rows)})
    return Dataset(X=X, y=rng.integers(0, 2, train_rows), labels=pd.Series(rng.integers(0, 2, train_rows)),
                   X_test=pd.DataFrame({"x": rng.normal(size=test_rows)}), test_ids=pd.Series(range(test_rows)),
                   folds=np.arange(train_rows) % folds)


def test_the_reserve_grows_with_the_test_set_and_the_folds_within_its_bounds():
    small, medium, large = (predict_reserve("auto", dataset(3000, rows)) for rows in (300, 3000, 30000))
    assert small == MIN_PREDICT_RESERVE  # a small test set: the floor for AutoGluon's own overrun
    assert small < medium < large == MAX_PREDICT_RESERVE
    assert predict_reserve("auto", dataset(3000, 1500, folds=8)) > predict_reserve("auto", dataset(3000, 1500, folds=3))


def test_a_configured_share_is_used_as_given():
    assert predict_reserve(0.12, dataset(3000, 30000)) == 0.12
    assert predict_reserve(0.0, dataset(3000, 300)) == 0.0


@pytest.mark.parametrize("value", [0.95, -0.1, "sometimes"])
def test_a_bad_reserve_is_a_configuration_error_naming_the_key(value):
    with pytest.raises(ConfigError) as raised:
        load_settings(("my.yaml", {"leaderboard": {"predict_reserve": value}}))
    assert "leaderboard.predict_reserve" in str(raised.value) and "my.yaml" in str(raised.value)


def test_the_default_is_auto_and_a_share_loads():
    assert load_settings().leaderboard.predict_reserve == "auto"
    assert load_settings(("cli", {"leaderboard": {"predict_reserve": 0.2}})).leaderboard.predict_reserve == 0.2
