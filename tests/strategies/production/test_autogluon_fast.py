"""Slow: AutoGluon's fast options from a tiny real fit, and the study's trials on a real local Ray."""

from __future__ import annotations

import numpy as np
import pytest

from agent.deadline import Deadline
from agent.runtime import load_model
from strategies.production.candidate import Budgets
from strategies.production.problem import latency_rows, make_problem

pytestmark = pytest.mark.slow


def test_autogluon_fast_options_are_measured_and_load(titanic, tmp_path):
    from autogluon.tabular import TabularPredictor

    from strategies.autogluon import AutoGluonStrategy
    from strategies.base import Budget
    from strategies.production.autogluon_fast import autogluon_candidates

    competition, dataset = titanic.competition, titanic.dataset
    strategy = AutoGluonStrategy(tmp_path / "ag", verbosity=0, fold_fitting="sequential_local",
                                 hyperparameters={"GBM": {}, "LR": {}})
    board = strategy.search(competition, dataset, Budget(15, 1, 4.0)).candidates
    predictor = TabularPredictor.load(str(tmp_path / "ag"))
    problem = make_problem(competition, dataset)
    rows = latency_rows(dataset)
    found = autogluon_candidates(problem, tmp_path / "ag", board, board[0].score, Budgets(1.0, 5_000_000),
                                 rows, tmp_path / "work", Deadline.after(120))
    by_name = {c.name: c for c in found}
    assert by_name["autogluon/best-deploy"].measured and by_name["autogluon/refit_full"].measured
    assert "infer_limit" in " ".join(by_name) and "autogluon/single" in by_name
    refit = by_name["autogluon/refit_full"]
    assert refit.score_source.startswith("out-of-fold score of the bagged parent")
    assert predictor.model_best == TabularPredictor.load(str(tmp_path / "ag")).model_best  # left untouched
    loaded = load_model(refit.folder)
    served = loaded.predict(dataset.X_test.iloc[:20])
    assert served.shape == (20,) and ((served >= 0) & (served <= 1)).all()
    np.testing.assert_allclose(loaded.predict(dataset.X_test.iloc[0].to_dict()), served[:1])


def test_trials_run_on_a_real_local_ray(titanic, tmp_path, ray_local):
    from strategies.production.search import search_compact

    problem = make_problem(titanic.competition, titanic.dataset)
    found = search_compact(problem, Budgets(50.0, 50_000_000), latency_rows(titanic.dataset), tmp_path / "w",
                           Deadline.after(120), max_trials=4, max_trees=50, max_leaves=15, executor=ray_local)
    assert len(found) == 4 and all(c.measured for c in found)
