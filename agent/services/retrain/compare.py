"""Score the current and the retrained production model on the same holdout, and decide which one ships.

The rule: the retrained model replaces the current one unless it scores worse on the holdout, in the
competition metric (a tie goes to the retrained model: same quality, fresher data). A retrained model that
could not be built (no candidate inside the budgets, for one) leaves the current model in place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from agent.competition.metrics import Metric, score_prediction
from agent.errors import InputError
from agent.runtime import ProductionModel
from agent.services.retrain.inputs import Labelled

RETRAINED, CURRENT = "retrained", "current"


@dataclass
class Decision:
    """Which model ships (`keep`: "retrained" or "current"), both holdout scores and why, in sentences."""

    keep: str
    metric: str
    greater_is_better: bool
    holdout_rows: int
    current_score: float
    retrained_score: float | None
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"keep": self.keep, "metric": self.metric, "greater_is_better": self.greater_is_better,
                "holdout_rows": self.holdout_rows, "current_score": self.current_score,
                "retrained_score": self.retrained_score, "reasons": self.reasons}


def holdout_score(model: ProductionModel, holdout: Labelled, metric: Metric, where: str) -> float:
    """The model's raw prediction on the holdout, scored as the competition scores it."""
    try:
        return float(score_prediction(metric, holdout.y, model.predict_raw(holdout.X)))
    except ValueError as exc:  # e.g. AUC on a holdout holding a single class
        raise InputError(f"The holdout cannot be scored in {metric.name} ({exc})", where=where,
                         fix="use a holdout with rows of every class (more rows or a larger --holdout)") from exc


def decide(metric: Metric, holdout_rows: int, current: float, retrained: float | None,
           failure: str | None = None) -> Decision:
    direction = "higher is better" if metric.greater_is_better else "lower is better"
    decision = Decision(CURRENT, metric.name, metric.greater_is_better, holdout_rows, current, retrained)
    if retrained is None or math.isnan(retrained):
        decision.reasons.append(f"No retrained model to compare: {failure or 'its holdout score is not a number'}; "
                                "the current model stays")
        return decision
    gain = metric.signed(retrained) - metric.signed(current)
    scores = (f"on the same {holdout_rows}-row holdout the retrained model scores {retrained:.6g} and the current "
              f"one {current:.6g} ({metric.name}, {direction})")
    if gain >= 0:
        decision.keep = RETRAINED
        verdict = "equal" if gain == 0 else f"better by {abs(retrained - current):.4g}"
        decision.reasons.append(f"The retrained model is {verdict}: {scores}; it replaces the current one")
    else:
        decision.reasons.append(f"The retrained model is worse by {abs(retrained - current):.4g}: {scores}; the "
                                "current model stays")
    return decision
