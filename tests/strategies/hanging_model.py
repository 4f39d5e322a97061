"""A model for AutoGluon fits in tests that never finishes fitting, and a Ray task fitting it after a LightGBM.

A module of its own because Ray's workers unpickle both by name."""

from __future__ import annotations

import time
from pathlib import Path

from autogluon.core.models.dummy.dummy_model import DummyModel

from strategies.autogluon import AutoGluonStrategy


class HangingModel(DummyModel):
    """Fits for ten minutes, past any deadline a test sets (as a model whose memory estimate forced its folds
    one after the other ran many times the seconds AutoGluon gave it)."""

    def _fit(self, **kwargs):
        time.sleep(600)
        super()._fit(**kwargs)


# AutoGluon fits models by priority, highest first: the LightGBM first, the hanging model last.
PORTFOLIO = {"GBM": [{"num_boost_round": 30, "ag_args": {"priority": 100}}],
             HangingModel: [{"ag_args": {"priority": -100}}]}


def fit_then_hang(path: str, competition, data, budget, fold_fitting: str):
    """AutoGluon's search with a LightGBM, then the hanging model (a Ray task, as the run submits the fit)."""
    strategy = AutoGluonStrategy(Path(path), num_stack_levels=0, verbosity=0, fold_fitting=fold_fitting,
                                 hyperparameters=PORTFOLIO, test_models="best")
    return strategy.search(competition, data, budget)


def hanging_autogluon_task(models: str, competition: dict, data, budget, settings: dict, log_path: str):
    """`agent.run.search.autogluon_task`'s stand-in: the same task, fitting the hanging portfolio one fold after
    the other in its own process (where nothing but a cancellation stops it)."""
    from agent.competition.inference import Competition
    from agent.logs import run_log

    with run_log(Path(log_path)):
        return fit_then_hang(models, Competition.from_dict(competition), data, budget, "sequential_local")
