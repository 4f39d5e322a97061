"""Slow: AutoGluon's own LightGBM bags from a tiny real fit, served from raw rows without AutoGluon."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from agent.deadline import Deadline
from agent.runtime import load_model
from strategies.production.autogluon_bags import FAMILY, autogluon_bag_candidates
from strategies.production.candidate import FAILED
from strategies.production.problem import make_problem

pytestmark = pytest.mark.slow


TEXT = ["name", "ticket", "cabin", "home.dest"]  # titanic's free-text columns, from which AutoGluon derives features


def fit(corpus, folder):
    """A bagged AutoGluon fit: two LightGBM bags and a linear model."""
    from strategies.autogluon import AutoGluonStrategy
    from strategies.base import Budget

    strategy = AutoGluonStrategy(folder / "ag", verbosity=0, fold_fitting="sequential_local",
                                 hyperparameters={"GBM": [{}, {"extra_trees": True, "ag_args": {"name_suffix": "XT"}}],
                                                  "LR": {}})
    return strategy.search(corpus.competition, corpus.dataset, Budget(40, 1, 4.0)).candidates


@pytest.fixture(scope="module", params=["titanic", "hpc"])
def fitted(request, tmp_path_factory):
    """A binary table with categories and two-valued columns (titanic without its free text), and a multiclass
    one with integer and categorical columns."""
    corpus = request.getfixturevalue(request.param)
    if request.param == "titanic":
        data = corpus.dataset
        data = replace(data, X=data.X.drop(columns=TEXT), X_test=data.X_test.drop(columns=TEXT))
        corpus = replace(corpus, dataset=data)
    folder = tmp_path_factory.mktemp(f"ag-bags-{request.param}")
    return corpus, fit(corpus, folder), folder


def test_each_lightgbm_bag_is_served_from_raw_rows_as_autogluon_predicts_it(fitted, tmp_path):
    corpus, board, folder = fitted
    competition, dataset = corpus.competition, corpus.dataset
    problem = make_problem(competition, dataset)
    bags = autogluon_bag_candidates(competition, dataset, problem, board, folder / "ag", tmp_path, 100,
                                    Deadline.after(120))
    assert len(bags) == 2 and all(b.family == FAMILY for b in bags), [(b.name, b.note) for b in bags]
    assert all(b.measured for b in bags), [b.note for b in bags]
    parents = {f"{FAMILY}/{c.model}": c for c in board if c.strategy == "autogluon"}
    assert not any("LinearModel" in b.name for b in bags)  # only LightGBM bags are served
    for bag in bags:
        parent = parents[bag.name]
        assert bag.score == pytest.approx(parent.score, rel=1e-9)  # AutoGluon's own out-of-fold score
        served = load_model(bag.folder)
        assert served.runtime.kind == "blend" and len(served.runtime.members) == problem.n_folds
        table = served.predict_raw(dataset.X_test)
        if parent.test is not None:
            np.testing.assert_allclose(table, parent.test, rtol=1e-6, atol=1e-9)
        one = served.predict_raw(dataset.X_test.head(1).to_dict("records")[0])
        np.testing.assert_allclose(one[0], table[0], rtol=1e-9)


def test_a_bag_that_predicts_otherwise_than_autogluon_is_refused_with_the_reason(fitted, tmp_path):
    corpus, board, folder = fitted
    problem = make_problem(corpus.competition, corpus.dataset)
    parent = next(c for c in board if c.strategy == "autogluon" and (c.model or "").startswith("LightGBM"))
    test = parent.test if parent.test is not None else np.zeros(len(corpus.dataset.X_test))
    broken = type(parent)(**{**parent.__dict__, "test": np.roll(np.asarray(test), 1, axis=0) + 0.01})
    bags = autogluon_bag_candidates(corpus.competition, corpus.dataset, problem, [broken], folder / "ag", tmp_path,
                                    100, Deadline.after(60))
    assert bags[0].status == FAILED and "differently from AutoGluon" in bags[0].note


def test_a_bag_reading_features_autogluon_derived_from_text_is_refused_with_the_reason(titanic, tmp_path):
    board = fit(titanic, tmp_path)
    problem = make_problem(titanic.competition, titanic.dataset)
    bags = autogluon_bag_candidates(titanic.competition, titanic.dataset, problem, board, tmp_path / "ag",
                                    tmp_path / "work", 100, Deadline.after(60))
    assert bags and all(b.status == FAILED and "features AutoGluon derived" in b.note and "name." in b.note
                        for b in bags)
