"""Nothing a fit finished is lost to a model that overruns: cut at the deadline, or recovered from disk."""

from __future__ import annotations

import numpy as np
import pytest

from agent.deadline import Deadline
from strategies.base import Budget
from tests.artifacts import make_corpus


@pytest.fixture(scope="module")
def titanic_small(tmp_path_factory):
    return make_corpus("titanic", tmp_path_factory.mktemp("salvage-corpus"), rows=300)


def test_a_model_still_fitting_its_folds_at_the_deadline_is_cut_and_the_models_before_it_are_kept(
        ray_local, titanic_small, tmp_path):
    """Folds fitted in parallel: the hanging model's folds are cancelled at the fit's deadline, the fit goes on
    to its weighted ensemble and returns at once, with the LightGBM and its test predictions."""
    from tests.strategies.hanging_model import fit_then_hang

    deadline = Deadline.after(20)
    result = fit_then_hang(str(tmp_path / "ag"), titanic_small.competition, titanic_small.dataset,
                           Budget(120, 2, 4.0, deadline=deadline, predict_deadline=Deadline.after(120)),
                           "parallel_local")
    assert deadline.remaining() > -15  # without the bound: ten minutes
    models = {c.model: c for c in result.candidates}
    assert "LightGBM_BAG_L1" in models and not any(name.startswith("Hanging") for name in models), list(models)
    assert models["LightGBM_BAG_L1"].test is not None
    assert len(models["LightGBM_BAG_L1"].test) == len(titanic_small.dataset.X_test)


@pytest.mark.slow  # 46 s: the in-process twin of the test above, which stays in `make test`
def test_a_fit_whose_last_model_hangs_past_the_deadline_still_delivers_the_models_before_it(
        ray_local, titanic_small, tmp_path, monkeypatch):
    """Folds fitted in the fit's own process, where only cancelling the task stops the hanging model: the run
    waits for the task until its piece ends, cancels it, and reads the LightGBM it had finished from disk,
    out-of-fold and test predictions included (those the fit made as it went)."""
    from agent.config import Settings
    from agent.run import search
    from agent.run.planner import AUTOGLUON, make_plan
    from tests.strategies.hanging_model import hanging_autogluon_task

    monkeypatch.setattr(search, "autogluon_task", hanging_autogluon_task)
    plan = make_plan(60, 1, production_share=0.15)
    plan.begin(AUTOGLUON)
    data, competition = titanic_small.dataset, titanic_small.competition
    (tmp_path / "podium.log").touch()
    fitted = search._fit_autogluon(competition, data, Settings(), ray_local, tmp_path, plan, 1, 1, 4.0, {})
    assert fitted is not None and fitted.summary["salvaged"]
    lightgbm = next(c for c in fitted.candidates if c.model == "LightGBM_BAG_L1")
    assert "recovered from disk" in plan.pieces[AUTOGLUON].actual["note"]

    from autogluon.tabular import TabularPredictor

    predictor = TabularPredictor.load(str(tmp_path / "models"), verbosity=0)
    positive = competition.positive_class
    oof = predictor.predict_proba_multi(data=None, models=["LightGBM_BAG_L1"])["LightGBM_BAG_L1"][positive]
    test = predictor.predict_proba(data.X_test, model="LightGBM_BAG_L1")[positive]
    np.testing.assert_allclose(lightgbm.oof, oof.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(lightgbm.test, test.to_numpy(), rtol=1e-6)
    assert not any(c.model.startswith("Hanging") for c in fitted.candidates)
