"""An AutoGluon callback that ends the fit on time: between models, never inside one.

Its own module because AutoGluon pickles the trainer with its callbacks (a class must be importable by
name), and importing AutoGluon's callback base is heavy: only the fit imports this.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from autogluon.core.callbacks import AbstractCallback

import agent.deadline as clocks
from agent.deadline import Deadline
from strategies.autogluon_saved import save_test_predictions

MIN_MODEL_SECONDS = 3.0  # a bagged model starts its fold workers first: less than this always overruns
# A stacked model learns from the original features and every lower model's predictions: more columns than
# its twin, so a longer fit (docs/benchmarks.md, figures behind design choices).
STACKED_COST = 2.0
MEASURED_SAFETY = 2.0  # a model's test predictions, planned from those measured in the same fit
# A bag starts only if at least this share of its fold models could predict the test set after its fit.
MIN_FOLDS_SHARE = 0.25


class DeadlineCallback(AbstractCallback):
    """Before each model: past `deadline` every further model is skipped, keeping every model the
    fit finished; a model the time left cannot hold (`skip_reason`) is skipped too, since AutoGluon's own limit
    does not hold every model (a forest at level 2 can run many times the seconds it was given). Weighted
    ensembles are never skipped: they take seconds at most, and the last one is often the fit's best model
    (stopping before it throws away what the level's models were fitted for).

    With `test_features` (a function giving the test rows as AutoGluon's models see them), each model predicts
    the test set as soon as it is fitted, from its inputs' predictions already made (`test_predictions`,
    AutoGluon's internal format): the fit pays each model's test predictions once and as it goes, so nothing
    is left to estimate for the models already fitted, and the stack need not keep a reserve for them.

    With `predict_deadline`, a model starts only if its fit (STACKED_COST times its twin's, or the time
    AutoGluon gives it), then the test predictions still to make, fit before that deadline: those of the
    fitted models not yet predicted (but those that could not predict in time: they will not) and, when
    predicting as the fit goes, the new model's own (`own_test_seconds`; a bag's at MIN_FOLDS_SHARE, since
    it may predict with some of its fold models). A model not yet predicted costs `test_per_validation` times
    its recorded out-of-fold predict time (a safety margin included: the same figure that later decides
    which model predicts the test set). A stack whose best model cannot predict in time is worth no more than
    the cheaper models below it.

    With `saved_to` (a folder), each model's test predictions are also written there as they are made
    (`save_test_predictions`), so that they outlive a fit task that is cancelled or dies before it returns.
    """

    def __init__(self, deadline: Deadline, predict_deadline: Deadline | None = None, test_per_validation: float = 0.0,
                 test_features: Callable[[], object] | None = None, saved_to: str | None = None):
        super().__init__()
        self.deadline = deadline
        self.saved_to = saved_to
        self.predict_deadline = predict_deadline
        self.test_per_validation = test_per_validation
        self.test_features = test_features
        self.test_predictions: dict[str, object] = {}  # model name -> its test predictions, internal format
        self.test_seconds: dict[str, float] = {}       # model name -> seconds its test predictions took
        self.planned_test_seconds: dict[str, float] = {}  # model name -> seconds planned for them before its fit
        self.some_folds: dict[str, str] = {}  # model name -> "k/n": test predictions from k of its n fold models
        self.given_up: set[str] = set()  # models that could not predict the test set in time: never priced again
        self._features = None

    def __getstate__(self) -> dict:
        """AutoGluon saves the trainer with its callbacks after every model: never the test rows or predictions."""
        return {**self.__dict__, "test_features": None, "test_predictions": {}, "_features": None}

    def _before_model_fit(self, trainer, model, time_limit=None, stack_name="core", level=1, **kwargs):
        left = self.deadline.remaining()
        if stack_name != "core":  # a weighted ensemble: seconds at most, and the level's best model
            return False, False
        if left <= 0:
            trainer.log(20, f"podium: the fit's deadline has passed; skipping {model.name}")
            return False, True
        fitted = trainer.get_model_names()
        fit_time = lambda name: trainer.get_model_attribute(name, "fit_time")  # noqa: E731
        reason = skip_reason(model.name, level, left, fitted, fit_time, given=time_limit)
        if reason is None and self.predict_deadline is not None:
            estimate = lambda name: self.estimated_test_seconds(trainer, name)  # noqa: E731
            core = [name for name in fitted if not name.startswith("WeightedEnsemble")]
            cost = sum(estimate(name) for name in core if name not in self.test_predictions
                       and name not in self.given_up)
            if self.test_features is not None and core:  # the new model predicts the test set once fitted
                kind = getattr(model, "_child_type", type(model))  # a bag's: the model its folds are
                kin = [name for name in core if trainer.get_model_attribute(name, "type_inner") is kind]
                self.planned_test_seconds[model.name] = self.own_test_seconds(core, model.name, estimate, kin)
                # a bag may predict with some of its fold models (predict_some_folds): a share of them must fit
                share = MIN_FOLDS_SHARE if hasattr(model, "_child_type") else 1.0
                cost += share * self.planned_test_seconds[model.name]
            fit = min(time_limit or left, left)
            twin_fit = twin_fit_seconds(fitted, model.name, fit_time) if level > 1 else None
            if twin_fit is not None:
                fit = min(fit, STACKED_COST * twin_fit)
            reason = predict_reason(cost, fit, self.predict_deadline.remaining())
        if reason:
            trainer.log(20, f"podium: skipping {model.name}: {reason}")
            return False, True
        return False, False

    def estimated_test_seconds(self, trainer, name: str) -> float:
        """Seconds for model `name` to predict the test set, from the out-of-fold predict time AutoGluon recorded
        (`test_per_validation` carries the test/validation rows ratio and a safety margin)."""
        return self.test_per_validation * float(trainer.get_model_attribute(name, "predict_time") or 0.0)

    def own_test_seconds(self, core: list[str], name: str, estimate: Callable[[str], float],
                         kin: list[str] = ()) -> float:
        """Seconds to plan for model `name` to predict the test set once fitted: twice what its twin one level
        down took, else twice the longest a fitted model of its kind (`kin`) took, else twice the longest any
        fitted model took (measured in this fit, on this machine), else the estimate from recorded out-of-fold
        predict times (`estimate`). Kinds differ by orders of magnitude: one slow LightGBM must not price a forest."""
        twin = twin_name(core, name)
        seconds = {other: self.whole_test_seconds(other) for other in self.test_seconds}
        kin_measured = [seconds[other] for other in kin if other in seconds]
        measured = seconds.get(twin) if twin else max(kin_measured or seconds.values(), default=None)
        if measured is not None:
            return MEASURED_SAFETY * measured
        return estimate(twin) if twin else max(map(estimate, core))

    def _after_model_fit(self, trainer, model_names, stack_name="core", level=1):
        """Predict the test set with the model just fitted, while its inputs' predictions are at hand. When the
        seconds planned for it (before its fit, so that a model allowed to start is not refused them later)
        would end past the predict deadline, a bag predicts with as many of its fold models as the time left
        holds (`predict_some_folds`): a model fitted is a model paid for, and its fold models are models."""
        if self.test_features is None or stack_name != "core":
            return False
        for name in model_names:
            planned = self.planned_test_seconds.get(name)
            if planned is None:
                planned = self.estimated_test_seconds(trainer, name)
            whole = self.predict_deadline is None or planned <= self.predict_deadline.remaining()
            try:
                features = self.features()  # transformed once, for every model: not this model's cost
                started = clocks.clock()
                if whole:
                    trainer.get_model_pred_proba_dict(features, models=[name],
                                                      model_pred_proba_dict=self.test_predictions)
                elif not self.predict_some_folds(trainer, name, features):
                    trainer.log(20, f"podium: {name} is not predicting the test set now: the predict deadline is near")
                    self.given_up.add(name)
                    continue
            except Exception as error:  # noqa: BLE001 - predicted after the fit instead, if there is time
                trainer.log(30, f"podium: could not predict the test set with {name} as it was fitted: {error}")
                self.test_predictions.pop(name, None)
                continue
            self.test_seconds[name] = round(clocks.clock() - started, 3)
            folds = f" with {self.some_folds[name]} of its fold models" if name in self.some_folds else ""
            trainer.log(20, f"podium: {name} predicted the test set{folds} in {self.test_seconds[name]:.1f} s")
            if self.saved_to is not None:
                save_test_predictions(Path(self.saved_to), name, self.test_predictions[name])
        return False

    def whole_test_seconds(self, name: str) -> float:
        """Seconds model `name` took to predict the test set, or would have with every fold model."""
        used, count = map(int, self.some_folds.get(name, "1/1").split("/"))
        return self.test_seconds[name] * count / used

    def predict_some_folds(self, trainer, name: str, features) -> bool:
        """The test predictions of bag `name` averaged over the fold models that predict before the predict
        deadline, one after the other, judged from the slowest measured so far (with MEASURED_SAFETY); False
        when the model is not a bag or not even its first fold model would. Recorded in `some_folds`."""
        model = trainer.load_model(name)
        count = len(getattr(model, "models", []) or [])
        if count < 2 or not hasattr(model, "predict_proba_children"):
            return False
        inputs = trainer.get_inputs_to_model(model, features, model_pred_proba_dict=dict(self.test_predictions))
        inputs = model.preprocess(inputs, model=model.load_child(model.models[0]))
        total, used, slowest = None, 0, 0.0
        for index in range(count):
            if MEASURED_SAFETY * slowest > self.predict_deadline.remaining():
                break
            started = clocks.clock()
            predicted = model.predict_proba_children(inputs, children_idx=[index], preprocess_nonadaptive=False)[0]
            slowest = max(slowest, clocks.clock() - started)
            total = predicted if total is None else total + predicted
            used += 1
        if total is None or self.predict_deadline.passed():
            return False
        self.test_predictions[name] = total / used
        if used < count:
            self.some_folds[name] = f"{used}/{count}"
        return True

    def features(self):
        """The test rows as the fit's models see them (AutoGluon's feature generators, applied once)."""
        if self._features is None:
            self._features = self.test_features()
        return self._features


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
    twin = twin_name(fitted, name)
    return None if twin is None else float(fit_time(twin) or 0.0)


def twin_name(fitted: list[str], name: str) -> str | None:
    """The same model at the highest lower stack level (X_BAG_L1 for X_BAG_L2), if fitted."""
    base, _, level = name.rpartition("_L")
    if not level.isdigit():
        return None
    return next((f"{base}_L{lower}" for lower in range(int(level) - 1, 0, -1) if f"{base}_L{lower}" in fitted),
                None)

