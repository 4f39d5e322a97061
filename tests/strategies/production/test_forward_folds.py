"""The production search on forward-chaining folds (a test set later in time): every fold model is fitted only
on rows earlier than those it scores, the earliest block gets no out-of-fold prediction, and scores, blends
and the exported model all hold up without it."""

from __future__ import annotations

import numpy as np
import pytest

import strategies.production.gbm as gbm
from agent.competition.folds import NOT_SCORED, chains_forward, fitted_on, oof_score
from agent.competition.split import time_values
from strategies.production import build_production_model
from strategies.production.distill import fit_student
from strategies.production.gbm import fit_and_validate, hard_target
from strategies.production.linear import fit_linear
from strategies.production.problem import make_problem
from tests.artifacts import fast_settings, make_corpus, quick_leaderboard


@pytest.fixture(scope="module")
def rain(tmp_path_factory):
    return make_corpus("rain_forecast", tmp_path_factory.mktemp("rain"), rows=500)


def test_each_fold_model_is_fitted_on_earlier_rows_only(rain, monkeypatch):
    folds = rain.dataset.folds
    assert chains_forward(folds)
    moments = time_values(rain.dataset.X, "date", rain.competition.dates).to_numpy()
    fitted_rows = []
    real = gbm.fit_booster

    def spy(problem, params, rows, *args, **kwargs):
        fitted_rows.append(np.asarray(rows))
        return real(problem, params, rows, *args, **kwargs)

    monkeypatch.setattr(gbm, "fit_booster", spy)
    problem = make_problem(rain.competition, rain.dataset)
    result = fit_and_validate(problem, {"num_leaves": 7, "n_estimators": 20}, hard_target(problem))
    for fold, rows in enumerate(fitted_rows[:-1]):  # the last fit is the served model, on every row
        assert (rows == np.flatnonzero(fitted_on(folds, fold))).all()
        assert moments[rows].max() < moments[folds == fold].min()
    assert len(fitted_rows[-1]) == len(folds)
    assert np.isnan(result.oof[folds == NOT_SCORED]).all() and np.isfinite(result.oof[folds >= 0]).all()
    assert result.score == oof_score(rain.competition.metric, problem.y, result.oof, folds)


def test_linear_and_distilled_candidates_leave_the_first_block_unscored(rain):
    folds = rain.dataset.folds
    problem = make_problem(rain.competition, rain.dataset)
    linear = fit_linear(problem)
    assert np.isnan(linear.oof[folds == NOT_SCORED]).all() and np.isfinite(linear.score)
    teacher = quick_leaderboard(rain)
    student = fit_student(problem, {"num_leaves": 7, "n_estimators": 20}, teacher.oof, teacher.test,
                          make_problem_test(rain, problem))
    assert np.isnan(student.oof[folds == NOT_SCORED]).all() and np.isfinite(student.oof[folds >= 0]).all()


def make_problem_test(corpus, problem):
    matrix = problem.encode(corpus.dataset.X_test)
    return matrix


def test_a_production_model_is_exported_from_forward_folds(rain, tmp_path):
    board = quick_leaderboard(rain)
    assert np.isnan(board.oof[rain.dataset.folds == NOT_SCORED]).all()
    result = build_production_model(rain.competition, rain.dataset, [board], board.oof, board.score,
                                    tmp_path / "production", fast_settings(search_trials=2), time_budget_s=40,
                                    leaderboard_test=board.test)
    card = result.card
    assert "forward-chaining" in card.validation.method and np.isfinite(card.leaderboard.score_given_up)
    assert card.budgets.within_budget


def test_the_production_blend_is_nested_over_the_scored_rows_only(rain):
    from strategies.production.blend import nested_oof
    from strategies.production.candidate import Budgets

    problem = make_problem(rain.competition, rain.dataset)
    folds, rng = problem.folds, np.random.default_rng(0)
    oofs = [np.where(folds == NOT_SCORED, np.nan, problem.y + rng.normal(scale=s, size=len(problem.y)))
            for s in (1.0, 1.2, 3.0)]
    nested = nested_oof(oofs, problem, [0.1] * 3, [1000] * 3, Budgets(1.0, 5_000_000), 3)
    assert np.isnan(nested[folds == NOT_SCORED]).all() and np.isfinite(nested[folds >= 0]).all()
    assert np.isfinite(problem.score(nested))
