"""Permutation importance of the chosen model: informative, and bounded by its deadline."""

from __future__ import annotations

from agent.deadline import Deadline
from strategies.production import importance, linear
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
                                   deadline=Deadline.after(0))
    assert len(fits) == 1 < problem.n_folds  # one fold, then the deadline: the other refits never ran
    assert {row["feature"] for row in table} == set(problem.schema.names)

    fits.clear()  # further past the deadline than the first fold may go: nothing is fitted, nothing scored
    late = permutation_importance(problem, validation_models(problem, chosen, None), problem.schema.names,
                                  deadline=Deadline.after(-2 * importance.LATE_SECONDS))
    assert fits == [] and late == []

    fits.clear()
    full = permutation_importance(problem, validation_models(problem, chosen, None), problem.schema.names)
    assert len(fits) == problem.n_folds
    assert full[0]["feature"] == "sex" and full[0]["importance"] > 0.05  # titanic's strongest signal


def test_the_first_fold_stops_at_most_its_grace_past_the_deadline(titanic, monkeypatch):
    """A first fold slower than the grace (each score made slow here) is cut there, with the features scored so
    far: the run's time limit holds whatever the model costs to score."""
    import time

    problem = make_problem(titanic.competition, titanic.dataset, read_texts=False)
    chosen = ProductionCandidate("linear/C1", "linear", params={"C": 1.0})
    real_score = importance._score
    monkeypatch.setattr(importance, "_score", lambda *a: time.sleep(0.05) or real_score(*a))
    started = time.monotonic()
    table = permutation_importance(problem, validation_models(problem, chosen, None), problem.schema.names,
                                   deadline=Deadline.after(0))
    took = time.monotonic() - started
    assert 0 < len(table) < len(problem.schema.names)  # cut inside the first fold, scored features kept
    assert took < importance.LATE_SECONDS + 0.5
