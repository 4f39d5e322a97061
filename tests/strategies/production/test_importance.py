"""Permutation importance of the chosen model: informative, and bounded by its deadline."""

from __future__ import annotations

from agent.deadline import Deadline
from strategies.production import linear
from strategies.production.candidate import ProductionCandidate
from strategies.production.importance import permutation_importance, validation_models
from strategies.production.problem import make_problem


def test_a_passed_deadline_stops_the_fold_refits_too(titanic, monkeypatch):
    problem = make_problem(titanic.competition, titanic.dataset, read_texts=False)  # titles repeat what sex says
    fits = []
    real_fit = linear.fit_linear_runtime
    monkeypatch.setattr(linear, "fit_linear_runtime", lambda *a, **k: fits.append(1) or real_fit(*a, **k))
    chosen = ProductionCandidate("linear/C1", "linear", params={"C": 1.0})

    table = permutation_importance(problem, validation_models(problem, chosen, None), problem.schema.names,
                                   deadline=Deadline.after(-1))
    assert len(fits) == 1 < problem.n_folds  # one fold, then the deadline: the other refits never ran
    assert {row["feature"] for row in table} == set(problem.schema.names)

    fits.clear()
    full = permutation_importance(problem, validation_models(problem, chosen, None), problem.schema.names)
    assert len(fits) == problem.n_folds
    assert full[0]["feature"] == "sex" and full[0]["importance"] > 0.05  # titanic's strongest signal
