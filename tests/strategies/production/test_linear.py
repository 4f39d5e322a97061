"""strategies/production/linear.py: the floor fits on at most MAX_ROWS rows, so it takes seconds on any table."""

from __future__ import annotations

import numpy as np

import strategies.production.linear as linear
from strategies.production.problem import make_problem
from tests.artifacts import make_corpus


def test_the_floor_fits_on_a_random_sample_of_at_most_max_rows_rows(monkeypatch):
    rows = np.arange(3, 30_003, 3)
    sample = linear.fitting_rows(rows, seed=0)
    assert len(sample) == linear.MAX_ROWS and np.isin(sample, rows).all()
    assert (np.diff(sample) > 0).all() and (sample == linear.fitting_rows(rows, seed=0)).all()
    assert sample.max() > rows[len(rows) // 2]  # drawn from the whole, not the first rows
    assert (linear.fitting_rows(rows[:50], seed=0) == rows[:50]).all()  # few rows: every one


def test_a_sampled_floor_still_predicts_every_row_out_of_fold(tmp_path, monkeypatch):
    corpus = make_corpus("titanic", tmp_path, rows=600)
    problem = make_problem(corpus.competition, corpus.dataset)
    fitted = []
    real = linear.LinearDesign.fit

    def spy(X, *args, **kwargs):
        fitted.append(len(X))
        return real(X, *args, **kwargs)

    monkeypatch.setattr(linear, "MAX_ROWS", 200)
    monkeypatch.setattr(linear.LinearDesign, "fit", staticmethod(spy))
    fit = linear.fit_linear(problem)
    assert fitted and max(fitted) == 200  # every fold's fit and the served one: 200 rows of 500+
    assert np.isfinite(fit.oof).all() and 0.5 < fit.score <= 1.0
