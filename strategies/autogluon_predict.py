"""AutoGluon's test predictions: what they cost before they are made, and making them in podium's format.

A model's test predictions are priced from the out-of-fold predict time AutoGluon recorded (each fold model
predicts every test row where it predicted 1/folds of the train rows); the fit's deadline callback and the
choice of the model that predicts after the fit plan with the one figure, `predict_factor`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from agent.columns import autogluon_name, with_encoded_names
from agent.competition.dataset import Dataset
from agent.competition.inference import Competition
from agent.competition.labels import label_key
from agent.competition.metrics import REGRESSION
from agent.deadline import Deadline

# Test predictions take up to twice what the validation predict time suggests when the machine is busy (the
# estimate, from AutoGluon's own timings, does not count loading or other work on the CPUs).
PREDICT_SAFETY = 2.0


def affordable(board, best: str, models: list[str], data: Dataset, deadline: Deadline | None,
                members: dict[str, set[str]]) -> str | None:
    """`best` if its test predictions can be ready by `deadline`, else the best-scoring model that can; each
    model's cost is that of `members[model]`, the models it needs whose test predictions are still to make."""
    if deadline is None:
        return best
    left = deadline.remaining()
    ranked = [best] + sorted((m for m in models if m != best), key=lambda m: -float(board.loc[m, "score_val"]))
    return next((m for m in ranked if PREDICT_SAFETY * predict_estimate(board, members[m], data) <= left), None)


def predict_factor(data: Dataset, safety: float = PREDICT_SAFETY) -> float:
    """Seconds to plan for predicting the test set per second of a model's recorded out-of-fold predict time:
    each fold model predicts every test row where it predicted 1/folds of the train rows, times PREDICT_SAFETY.
    The deadline callback and `affordable` plan with this one figure, so a model the fit lets start never
    leaves a stack that cannot be predicted in time (it would be fitted for nothing)."""
    return safety * data.n_folds * len(data.X_test) / max(1, len(data.X))


def weighted_ensemble(trainer, model: str) -> bool:
    from autogluon.core.models import WeightedEnsembleModel

    return issubclass(trainer.get_model_attribute(model, "type"), WeightedEnsembleModel)


def predict_multi(predictor, X, models: list[str], predicted: dict | None = None, features=None) -> dict:
    """Test predictions (as `predict_proba_multi` gives them) of `models`, their inputs and the models in
    `predicted` (AutoGluon's internal format, made as the fit went: reused, not predicted again); `features`:
    `X` as the models see it, when already transformed."""
    learner = predictor._learner
    internal = dict(predicted or {})
    if models:
        features = learner.transform_features(X) if features is None else features
        internal = predictor._trainer.get_model_pred_proba_dict(features, models, model_pred_proba_dict=internal)
    return {model: learner._post_process_predict_proba(proba, index=X.index) for model, proba in internal.items()}


def predict_estimate(board, members: set[str], data: Dataset) -> float:
    """Seconds to predict the test set with `members`: each bagged model's fold models predict every test row,
    where each predicted 1/folds of the train rows."""
    seconds = sum(float(board.loc[m, "pred_time_val_marginal"] or 0.0) for m in members if m in board.index)
    return seconds * predict_factor(data, safety=1.0)


def predict_test(path: str, competition: dict, X_test, models: list[str]) -> dict[str, np.ndarray]:
    """Test predictions of the named AutoGluon models (a Ray task: loads the predictor from `path`)."""
    from autogluon.tabular import TabularPredictor

    comp = Competition.from_dict(competition)
    predictor = TabularPredictor.load(path, require_py_version_match=False, verbosity=0)
    frames = predict_multi(predictor, with_encoded_names(X_test, autogluon_name), models)
    return {model: as_prediction(frames[model], comp) for model in models}


def as_prediction(frame, competition: Competition) -> np.ndarray:
    """AutoGluon's output to podium's convention: values, P(positive), or a matrix in class-code order."""
    if competition.problem_type == REGRESSION:
        return np.asarray(frame, dtype=float)
    frame = pd.DataFrame(frame)
    by_key = {label_key(c): c for c in frame.columns}
    matrix = np.column_stack([frame[by_key[label_key(c)]].to_numpy(dtype=float) for c in competition.classes])
    return matrix[:, 1] if competition.problem_type == "binary" else matrix
