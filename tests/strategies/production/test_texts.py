"""The production models read the words of free-text columns (agent/competition/texts.py), and only there."""

from __future__ import annotations

import numpy as np

from strategies.production.gbm import fit_and_validate, hard_target
from strategies.production.problem import make_problem

PARAMS = {"num_leaves": 7, "n_estimators": 60, "learning_rate": 0.1}


def test_the_words_of_titanic_names_raise_a_compact_models_score(titanic):
    """A passenger's title (Mr, Master, Miss) is in the name, which as a category is a value per row."""
    with_words = make_problem(titanic.competition, titanic.dataset)
    without = make_problem(titanic.competition, titanic.dataset, read_texts=False)
    assert {"mr", "master", "miss"} <= set(with_words.schema.texts["name"]) and not without.schema.texts
    scores = [fit_and_validate(p, PARAMS, hard_target(p)).score for p in (with_words, without)]
    assert with_words.signed(scores[0]) > without.signed(scores[1])


def test_a_table_without_free_text_is_encoded_as_before(hpc, ames):
    for corpus in (hpc, ames):
        problem = make_problem(corpus.competition, corpus.dataset)
        plain = make_problem(corpus.competition, corpus.dataset, read_texts=False)
        assert problem.schema.texts == {} and problem.schema == plain.schema
        np.testing.assert_array_equal(problem.X, plain.X)
