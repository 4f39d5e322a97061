"""Fitting the production blend's logistic stacker (agent/runtime/stacker.py) on its members' out-of-fold
predictions.

The layer is a (multinomial) logistic regression with sklearn's default L2 penalty: a few dozen coefficients
fitted on thousands of rows, so it barely overfits, and the blend's nested score (strategies/production/blend.py)
fits it inside the folds anyway, so a stacker that does not beat the weighted mean is not shipped.
"""

from __future__ import annotations

import warnings

import numpy as np

from agent.runtime.runtimes import SOFTMAX
from agent.runtime.stacker import LogisticStacker, stack_features

MAX_ITER = 500
MAX_ROWS = 10_000  # a layer of a few hundred coefficients needs no more; 10 classes on 23,000 rows took 1.4 s a fit


def fit_stacker(outputs: list[np.ndarray], y: np.ndarray, link: str, n_classes: int) -> LogisticStacker | None:
    """The stacker fitted on the members' predictions `outputs` of the rows whose class codes are `y` (at most
    MAX_ROWS of them, drawn at random); None when a class is missing from them (its coefficients could not be
    fitted)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    classes = n_classes if link == SOFTMAX else 2
    codes = np.asarray(y).astype(int)
    if len(codes) > MAX_ROWS:  # the same rows for every fit of the same data
        rows = np.sort(np.random.default_rng(0).choice(len(codes), MAX_ROWS, replace=False))
        outputs, codes = [np.asarray(o)[rows] for o in outputs], codes[rows]
    if len(np.unique(codes)) < classes:
        return None
    features = stack_features(outputs, link)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a layer short of convergence still scores in the folds
        model = LogisticRegression(max_iter=MAX_ITER).fit(features, codes)
    return LogisticStacker(model.coef_, model.intercept_, link)
