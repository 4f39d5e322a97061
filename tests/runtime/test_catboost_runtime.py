"""agent/runtime/catboost_runtime.py: a CatBoost model read from the encoder's numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agent.runtime.catboost_runtime import CatBoostRuntime
from agent.runtime.runtimes import IDENTITY, SIGMOID, SOFTMAX, runtime_class

CODES = 4  # categories of the table's `colour`


def table(rows: int = 600) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=rows), "colour": rng.integers(0, CODES, rows)})
    return frame, frame.x.to_numpy() + (frame.colour == 1) * 2.0 + rng.normal(scale=0.3, size=rows)


def fitted(kind: str):
    from catboost import CatBoostClassifier, CatBoostRegressor

    X, y = table()
    quiet = {"iterations": 40, "verbose": 0, "thread_count": 1, "allow_writing_files": False}
    if kind == SIGMOID:
        model, y = CatBoostClassifier(**quiet), (y > 0).astype(int)
    elif kind == SOFTMAX:
        model, y = CatBoostClassifier(**quiet, loss_function="MultiClass"), np.digitize(y, [-0.5, 0.5, 1.5])
    else:
        model = CatBoostRegressor(**quiet)
    model.fit(X, y, cat_features=["colour"])
    return model, X


@pytest.mark.parametrize("link", [IDENTITY, SIGMOID, SOFTMAX])
def test_rows_one_at_a_time_a_table_and_catboost_itself_agree(link):
    model, X = fitted(link)
    runtime = CatBoostRuntime(model, link, categorical=[1])
    matrix = X.to_numpy(dtype=float)[:50]
    table = runtime.raw(matrix)
    one_by_one = np.vstack([runtime.raw(matrix[i:i + 1]) for i in range(len(matrix))]).reshape(table.shape)
    np.testing.assert_array_equal(one_by_one, table)
    raw = np.asarray(model.predict(X.iloc[:50], prediction_type="RawFormulaVal"))
    expected = {IDENTITY: raw, SIGMOID: 1 / (1 + np.exp(-raw))}.get(link)
    if expected is None:
        expected = np.exp(raw - raw.max(axis=1, keepdims=True))
        expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(table, expected, rtol=1e-12)


def test_saved_and_loaded_it_predicts_the_same(tmp_path):
    model, X = fitted(SIGMOID)
    runtime = CatBoostRuntime(model, SIGMOID, categorical=[1])
    (tmp_path / "model").mkdir()
    config = runtime.save(tmp_path / "model")
    loaded = runtime_class(config["kind"]).load(tmp_path, config)
    matrix = X.to_numpy(dtype=float)[:20]
    np.testing.assert_array_equal(loaded.raw(matrix), runtime.raw(matrix))
    assert loaded.describe() == runtime.describe() == {"trees": 40, "features": 2, "served_by": "CatBoost"}
