"""Every LightGBM podium fits goes through here: the objective a competition's metric wants, and the training.

The leaderboard's studies (strategies/learners.py: pandas categories, early stopping on an inner holdout) and
the production models (strategies/production/gbm.py: the encoded matrix, a fixed number of rounds, soft
targets for distillation) differ in what they hand over, not in how a booster is made.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agent.competition.metrics import BINARY, MULTICLASS
from agent.deadline import Deadline, PastDeadline

# LightGBM's regression objective for the metrics that are not on squared error (RMSLE is learnt as squared
# error on log1p of the target by whoever fits).
REGRESSION_OBJECTIVES = {"Mean Absolute Error": "regression_l1", "Mean Absolute Percentage Error": "mape"}


def objective_for(problem_type: str, metric_name: str) -> str:
    """LightGBM's objective for a problem scored by `metric_name`."""
    if problem_type == BINARY:
        return "binary"
    if problem_type == MULTICLASS:
        return "multiclass"
    return REGRESSION_OBJECTIVES.get(metric_name, "regression")


def train(params: dict[str, Any], X, y: np.ndarray, rounds: int, *, categorical: list[int] | str = "auto",
          init_score: np.ndarray | None = None, stop: tuple[Any, np.ndarray] | None = None, patience: int = 0,
          dataset_params: dict[str, Any] | None = None, deadline: Deadline | None = None):
    """A booster fitted on (X, y) for `rounds` rounds, or fewer when `stop` (rows and target held out from the
    fit) stops improving for `patience` rounds. Past `deadline` it raises PastDeadline between two rounds."""
    import lightgbm

    data = lightgbm.Dataset(X, label=y, init_score=init_score, categorical_feature=categorical,
                            free_raw_data=True, params=dataset_params)
    callbacks = [] if deadline is None else [stop_at(deadline)]
    if stop is None:
        return lightgbm.train(params, data, num_boost_round=rounds, callbacks=callbacks)
    held_out = lightgbm.Dataset(stop[0], stop[1], reference=data)
    return lightgbm.train(params, data, num_boost_round=rounds, valid_sets=[held_out],
                          callbacks=[lightgbm.early_stopping(patience, verbose=False), *callbacks])


def stop_at(deadline: Deadline):
    """A LightGBM callback raising PastDeadline once `deadline` has passed."""

    def check(env) -> None:
        if deadline.passed():
            raise PastDeadline(f"stopped after {env.iteration + 1} rounds: the deadline passed")

    check.order = 0  # before early stopping
    return check
