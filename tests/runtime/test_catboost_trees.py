"""agent/runtime/catboost_trees.py and its kernel: CatBoost's formula, read from its export, predicts as CatBoost
does, compiled or in numpy, and an artifact carrying it serves where nothing can be compiled."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agent.runtime.catboost_runtime import CatBoostRuntime
from agent.runtime.catboost_trees import ObliviousTrees, disagreement
from agent.runtime.runtimes import IDENTITY, SIGMOID, SOFTMAX, runtime_class

CODES = [20, 5, 2, 300]  # codes of the table's four categorical columns
CATEGORICAL = [1, 3, 4, 5]
ROOT = Path(__file__).resolve().parents[2]


def table(rows: int = 4000) -> tuple[pd.DataFrame, np.ndarray]:
    """Two numbers (one often missing) and four categories (one of two values, one of hundreds) whose
    interactions matter, so that CatBoost builds one-hot splits and target statistics of single categories and
    of combinations with each other and with float splits."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=rows), "colour": rng.integers(0, CODES[0], rows),
                          "weight": rng.normal(size=rows) * 100, "form": rng.integers(0, CODES[1], rows),
                          "indoor": rng.integers(0, CODES[2], rows), "town": rng.integers(0, CODES[3], rows)})
    frame.loc[::7, "x"] = np.nan
    signal = (frame.x.fillna(0) + (frame.colour * frame.form) % 3 + frame.indoor + (frame.town % 7) / 3
              + rng.normal(size=rows))
    return frame, signal.to_numpy()


def fitted(link: str, **params):
    from catboost import CatBoostClassifier, CatBoostRegressor

    X, y = table()
    settings = {"iterations": 300, "depth": 6, "verbose": 0, "thread_count": 2, "allow_writing_files": False,
                **params}
    if link == SIGMOID:
        model, y = CatBoostClassifier(**settings), (y > 2).astype(int)
    elif link == SOFTMAX:
        model, y = CatBoostClassifier(**settings, loss_function="MultiClass"), np.digitize(y, [1, 2, 3])
    else:
        model = CatBoostRegressor(**settings)
    model.fit(X, y, cat_features=CATEGORICAL)
    return model, X


def served_rows(X: pd.DataFrame) -> np.ndarray:
    """The table's rows as the encoder gives them, plus rows a model never saw: codes outside every category's
    range, missing numbers where none were missing."""
    matrix = X.to_numpy(dtype=float)
    odd = matrix[:60].copy()
    odd[:20, 5] = CODES[3] + 5  # beyond the codes CatBoost was shown
    odd[20:40, 2] = np.nan
    odd[40:, 1] = -1
    return np.vstack([matrix, odd])


@pytest.mark.parametrize("link", [IDENTITY, SIGMOID, SOFTMAX])
def test_the_formula_predicts_as_catboost_compiled_and_in_numpy(link):
    model, X = fitted(link)
    formula = ObliviousTrees.from_catboost(model, CATEGORICAL, CODES)
    assert formula.compiled and len(formula.arrays["onehot_cat"])
    assert (np.count_nonzero(formula.arrays["element_coef"], axis=1) > 1).any()  # combinations were hashed
    rows = served_rows(X)
    assert disagreement(formula, model, rows, CATEGORICAL) < 1e-12
    np.testing.assert_allclose(formula.raw(rows), formula.evaluate(rows), rtol=1e-12, atol=1e-12)


def test_missing_values_sent_above_every_border_are_read_so():
    model, X = fitted(IDENTITY, nan_mode="Max")
    formula = ObliviousTrees.from_catboost(model, CATEGORICAL, CODES)
    assert formula.arrays["float_nan"].any()
    assert disagreement(formula, model, served_rows(X), CATEGORICAL) < 1e-12


def test_trees_that_are_not_oblivious_are_refused():
    model, _ = fitted(IDENTITY, grow_policy="Depthwise")
    with pytest.raises(ValueError, match="oblivious"):
        ObliviousTrees.from_catboost(model, CATEGORICAL, CODES)


def test_the_runtime_serves_by_the_formula_and_saves_it(tmp_path):
    model, X = fitted(SIGMOID)
    formula = ObliviousTrees.from_catboost(model, CATEGORICAL, CODES)
    runtime = CatBoostRuntime(model, SIGMOID, CATEGORICAL, formula)
    by_catboost = CatBoostRuntime(model, SIGMOID, CATEGORICAL)
    rows = served_rows(X)[:300]
    assert runtime.describe()["served_by"] == "compiled formula" and by_catboost.describe()["served_by"] == "CatBoost"
    np.testing.assert_allclose(runtime.raw(rows), by_catboost.raw(rows), rtol=1e-12)
    np.testing.assert_allclose(runtime.raw(rows[:1]), by_catboost.raw(rows[:1]), rtol=1e-12)
    (tmp_path / "model").mkdir()
    config = runtime.save(tmp_path / "model")
    assert (tmp_path / config["formula"]).is_file()
    loaded = runtime_class(config["kind"]).load(tmp_path, config)
    np.testing.assert_array_equal(loaded.raw(rows), runtime.raw(rows))


def test_an_artifact_made_here_serves_where_nothing_compiles(tmp_path):
    """No C compiler on PATH and no kernel built yet: the formula is evaluated with numpy (and a large table by
    CatBoost) to the same numbers."""
    model, X = fitted(SOFTMAX)
    runtime = CatBoostRuntime(model, SOFTMAX, CATEGORICAL, ObliviousTrees.from_catboost(model, CATEGORICAL, CODES))
    (tmp_path / "model").mkdir()
    config = runtime.save(tmp_path / "model")
    rows = served_rows(X)[:200]
    np.save(tmp_path / "rows.npy", rows)
    script = (
        "import json, sys, numpy as np; from pathlib import Path; "
        "from agent.runtime.runtimes import runtime_class; from agent.runtime.compiled import kernel; "
        "root = Path(sys.argv[1]); config = json.loads(sys.argv[2]); rows = np.load(root / 'rows.npy'); "
        "runtime = runtime_class(config['kind']).load(root, config); "
        "one = np.vstack([runtime.raw(rows[i:i + 1]) for i in range(len(rows))]); "
        "np.save(root / 'theirs.npy', np.stack([one, runtime.raw(rows)])); "
        "print(json.dumps({'kernel': kernel('catboost_kernel') is not None, "
        "'served_by': runtime.describe()['served_by']}))")
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {"PATH": str(empty), "PODIUM_KERNELS": str(tmp_path / "kernels"), "HOME": str(tmp_path),
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path), json.dumps(config)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"kernel": False, "served_by": "formula in numpy"}
    assert not any((tmp_path / "kernels").glob("*.so"))
    one_by_one, table_at_once = np.load(tmp_path / "theirs.npy")
    ours = runtime.raw(rows)
    np.testing.assert_allclose(one_by_one, ours, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(table_at_once, ours, rtol=1e-9, atol=1e-12)


def test_the_kernel_is_built_once_per_machine_and_then_needs_no_compiler(tmp_path, monkeypatch):
    from agent.runtime import compiled

    monkeypatch.setenv("PODIUM_KERNELS", str(tmp_path / "kernels"))
    assert compiled.kernel("catboost_kernel") is not None
    built = list((tmp_path / "kernels").glob("catboost_kernel-*.so"))
    assert len(built) == 1
    monkeypatch.setenv("PATH", str(tmp_path))  # no compiler from here on: the built library still loads
    assert compiled.kernel("catboost_kernel") is not None
    assert list((tmp_path / "kernels").glob("*")) == built
