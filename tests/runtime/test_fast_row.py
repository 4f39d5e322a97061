"""LightGBMRuntime's one-row path (LightGBM's single-row C API) answers as Booster.predict does, to the bit."""

from __future__ import annotations

import json
import pickle
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from strategies.production.gbm import fit_booster, hard_target
from strategies.production.problem import make_problem

PARAMS = {"num_leaves": 15, "n_estimators": 60, "learning_rate": 0.1}


@pytest.fixture(scope="module", params=["titanic", "hpc", "ames"])
def fitted(request):
    corpus = request.getfixturevalue(request.param)
    problem = make_problem(corpus.competition, corpus.dataset)
    runtime = fit_booster(problem, PARAMS, np.arange(len(problem.y)), hard_target(problem))
    rows = problem.X[:300].copy()
    rows[::7, :] = np.nan  # whole rows missing, and the encoder's NaNs for missing categories elsewhere
    return runtime, rows


def test_one_row_at_a_time_equals_the_booster_on_the_whole_table(fitted):
    runtime, rows = fitted
    table = runtime.raw(rows)
    one_by_one = np.concatenate([runtime.raw(rows[i:i + 1]) for i in range(len(rows))])
    assert runtime._fast is not None  # the one-row path was taken
    assert one_by_one.shape == table.shape and np.array_equal(one_by_one, table)


def test_threads_calling_one_runtime_get_their_own_answers(fitted):
    runtime, rows = fitted
    expected = runtime.raw(rows)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda i: runtime.raw(rows[i:i + 1])[0], range(len(rows))))
    assert np.array_equal(np.stack(answers), expected)


def test_a_runtime_that_answered_one_row_still_pickles(fitted):
    runtime, rows = fitted
    runtime.raw(rows[:1])
    copy = pickle.loads(pickle.dumps(runtime))
    assert copy._fast is None and np.array_equal(copy.raw(rows[:1]), runtime.raw(rows[:1]))


def test_an_artifact_loads_and_predicts_with_no_compiler_on_the_path(titanic_artifact, tmp_path):
    """Nothing is compiled at load or shipped compiled: a process whose PATH holds no compiler serves it."""
    import subprocess
    import sys

    script = ("import json, sys; from agent.runtime import load_model; "
              "m = load_model(sys.argv[1]); print(json.dumps(m.predict_raw(m.schema and "
              "{c.name: None for c in m.schema.columns}).tolist()))")
    empty = tmp_path / "bin"
    empty.mkdir()
    done = subprocess.run([sys.executable, "-c", script, str(titanic_artifact.out_dir)], capture_output=True,
                          text=True, env={"PATH": str(empty), "PYTHONPATH": str(Path.cwd())}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout.strip().splitlines()[-1])) == 1
