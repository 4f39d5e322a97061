"""An AutoGluon callback that ends the fit on time: between models, never inside one.

Its own module because AutoGluon pickles the trainer with its callbacks (a class must be importable by
name), and importing AutoGluon's callback base is heavy: only the fit imports this.
"""

from __future__ import annotations

import time

from autogluon.core.callbacks import AbstractCallback

MIN_MODEL_SECONDS = 3.0  # a bagged model starts its fold workers first: less than this always overruns
# A stacked model learns from the original features and every lower model's predictions: more columns than
# its twin, so a longer fit (docs/benchmarks.md, figures behind design choices).
STACKED_COST = 2.0


class DeadlineCallback(AbstractCallback):
    """Before each model: past `deadline` (Unix time) every further model is skipped, keeping every model the
    fit finished; a model the time left cannot hold (`skip_reason`) is skipped too, since AutoGluon's own limit
    does not hold every model (a forest at level 2 can run many times the seconds it was given). Weighted
    ensembles are never skipped: they take seconds at most, and the last one is often the fit's best model
    (stopping before it throws away what the level's models were fitted for).

    With `predict_deadline`, a model starts only if, after its fit (STACKED_COST times its twin's, or the
    time AutoGluon gives it), the models fitted so far could still predict the test set before that deadline:
    each bagged model's fold models predict every test row, costing `test_per_validation` times its recorded
    out-of-fold predict time (a safety margin included: the same figure that later decides which model
    predicts the test set). A stack whose best model cannot predict in time is worth no more than the
    cheaper models below it.
    """

    def __init__(self, deadline: float, predict_deadline: float | None = None, test_per_validation: float = 0.0):
        super().__init__()
        self.deadline = deadline
        self.predict_deadline = predict_deadline
        self.test_per_validation = test_per_validation

    def _before_model_fit(self, trainer, model, time_limit=None, stack_name="core", level=1, **kwargs):
        left = self.deadline - time.time()
        if stack_name != "core":  # a weighted ensemble: seconds at most, and the level's best model
            return False, False
        if left <= 0:
            trainer.log(20, f"podium: the fit's deadline has passed; skipping {model.name}")
            return False, True
        fitted = trainer.get_model_names()
        fit_time = lambda name: trainer.get_model_attribute(name, "fit_time")  # noqa: E731
        reason = skip_reason(model.name, level, left, fitted, fit_time, given=time_limit)
        if reason is None and self.predict_deadline is not None:
            cost = self.test_per_validation * sum(
                float(trainer.get_model_attribute(name, "predict_time") or 0.0) for name in fitted)
            fit = min(time_limit or left, left)
            twin = twin_fit_seconds(fitted, model.name, fit_time) if level > 1 else None
            if twin is not None:
                fit = min(fit, STACKED_COST * twin)
            reason = predict_reason(cost, fit, self.predict_deadline - time.time())
        if reason:
            trainer.log(20, f"podium: skipping {model.name}: {reason}")
            return False, True
        return False, False


def predict_reason(cost: float, fit: float, left: float) -> str | None:
    """Why a model that may fit for `fit` seconds should not start when the fitted ones take `cost` seconds
    to predict the test set and `left` seconds remain before the test predictions are due, or None."""
    if cost > 0 and cost + fit > left:
        return (f"the fitted models would take about {cost:.0f} s to predict the test set; with {fit:.0f} s to fit "
                f"this one, more than the {left:.0f} s left")
    return None


def skip_reason(name: str, level: int, left: float, fitted: list[str], fit_time,
                given: float | None = None) -> str | None:
    """Why a model of `level` with `left` seconds before the deadline (and `given` seconds of AutoGluon's
    own split of the time) should not start, or None. A stacked model is expected to cost STACKED_COST times
    its twin at a lower level; without a twin (the time ran out before it at level 1), times the cheapest
    model of the level below, its best known lower bound."""
    if left < MIN_MODEL_SECONDS:
        return f"{left:.1f} s are left before the fit's deadline"
    if given is not None and given < MIN_MODEL_SECONDS:
        # the level's share is spent: such a model still takes its fold workers' start-up and scores poorly
        return f"AutoGluon gave it {given:.1f} s" if given > 0 else "its level's share of the time is spent"
    if level <= 1:
        return None
    twin = twin_fit_seconds(fitted, name, fit_time)
    if twin is not None:
        expected, basis = twin, "its lower-level twin"
    else:
        below = [float(fit_time(other) or 0.0) for other in fitted
                 if other.endswith(f"_L{level - 1}") and not other.startswith("WeightedEnsemble")]
        if not below:
            return None
        expected, basis = min(below), f"the cheapest level-{level - 1} model"
    if STACKED_COST * expected > left:
        return f"{basis} took {expected:.0f} s (x{STACKED_COST:g} when stacked), {left:.0f} s are left"
    return None


def twin_fit_seconds(fitted: list[str], name: str, fit_time) -> float | None:
    """Fit seconds of the same model at the highest lower stack level (X_BAG_L1 for X_BAG_L2), if fitted."""
    base, _, level = name.rpartition("_L")
    if not level.isdigit():
        return None
    for lower in range(int(level) - 1, 0, -1):
        twin = f"{base}_L{lower}"
        if twin in fitted:
            return float(fit_time(twin) or 0.0)
    return None
