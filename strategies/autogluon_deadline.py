"""An AutoGluon callback that ends the fit on time: between models, never inside one.

Its own module because AutoGluon pickles the trainer with its callbacks (a class must be importable by
name), and importing AutoGluon's callback base is heavy: only the fit imports this.
"""

from __future__ import annotations

import time

from autogluon.core.callbacks import AbstractCallback

MIN_MODEL_SECONDS = 3.0  # a bagged model starts its fold workers first: less than this always overruns
# A stacked model learns from the original features and every lower model's predictions: more columns than
# its twin (a level-2 forest on diamonds took over 1.5 times its level-1 twin's recorded fit time).
STACKED_COST = 2.0


class DeadlineCallback(AbstractCallback):
    """Before each model: past `deadline` (Unix time) the fit stops, keeping every model it finished; a model
    with less than MIN_MODEL_SECONDS left, or a stacked model whose twin at a lower level took longer than
    the time left, is skipped, since AutoGluon's own limit does not hold every model (a forest at level 2
    can run many times the seconds it was given). Weighted ensembles are cheap and are always fitted before
    the deadline.
    """

    def __init__(self, deadline: float):
        super().__init__()
        self.deadline = deadline

    def _before_model_fit(self, trainer, model, time_limit=None, stack_name="core", level=1, **kwargs):
        left = self.deadline - time.time()
        if left <= 0:
            trainer.log(20, f"podium: the fit's deadline has passed; stopping before {model.name}")
            return True, False
        if stack_name != "core":
            return False, False
        if left < MIN_MODEL_SECONDS:
            trainer.log(20, f"podium: skipping {model.name}: {left:.1f} s are left before the fit's deadline")
            return False, True
        if level <= 1:
            return False, False
        expected = twin_fit_seconds(trainer.get_model_names(), model.name,
                                    lambda twin: trainer.get_model_attribute(twin, "fit_time"))
        if expected is not None and STACKED_COST * expected > left:
            trainer.log(20, f"podium: skipping {model.name}: its lower-level twin took {expected:.0f} s "
                            f"(x{STACKED_COST:g} when stacked), {left:.0f} s are left")
            return False, True
        return False, False


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
