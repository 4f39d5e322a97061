"""Adversarial validation: if a quick model can tell train rows from test rows, the two come from different worlds."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from agent.quality.context import NUMERIC, CheckContext, column_kind, sample_positions
from agent.quality.onefeature import make_folds, one_feature_strength
from agent.quality.report import Finding

log = logging.getLogger("podium.quality")
MIN_ROWS_PER_SIDE = 30
TREES = 100


def _model_frame(train: pd.DataFrame, test: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """Train rows then test rows; numbers as floats, everything else as one shared set of LightGBM categories."""
    columns = {}
    for column in features:
        a, b = train[column], test[column]
        if column_kind(a) == NUMERIC and column_kind(b) == NUMERIC:
            columns[column] = pd.concat([a, b], ignore_index=True).astype("float64")
        elif pd.api.types.is_datetime64_any_dtype(a) and pd.api.types.is_datetime64_any_dtype(b):
            both = pd.concat([a, b], ignore_index=True)
            columns[column] = both.astype("int64").where(both.notna()).astype("float64")
        else:
            both = pd.concat([a, b], ignore_index=True)
            columns[column] = both.where(both.isna(), both.astype(str)).astype("category")
    return pd.DataFrame(columns)


def check_adversarial_validation(ctx: CheckContext) -> list[Finding]:
    """Cross-validated AUC of a LightGBM telling train from test, and the features it leans on."""
    from lightgbm import LGBMClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    settings = ctx.settings
    features = [c for c in ctx.features if ctx.train[c].notna().any() or ctx.test[c].notna().any()]
    train = ctx.train.iloc[sample_positions(len(ctx.train), settings.shift_max_rows, ctx.seed)]
    test = ctx.test.iloc[sample_positions(len(ctx.test), settings.shift_max_rows, ctx.seed + 1)]
    if min(len(train), len(test)) < MIN_ROWS_PER_SIDE or not features:
        return [Finding("adversarial_validation", "info",
                        f"Skipped: adversarial validation needs at least {MIN_ROWS_PER_SIDE} rows in train and in "
                        f"test and one feature with values (train {len(train)}, test {len(test)} rows)",
                        (), {"train_rows": len(train), "test_rows": len(test)})]
    X = _model_frame(train, test, features)
    is_test = np.r_[np.zeros(len(train), dtype=int), np.ones(len(test), dtype=int)]
    oof = np.zeros(len(X))
    gain = np.zeros(len(features))
    folds = StratifiedKFold(settings.shift_folds, shuffle=True, random_state=ctx.seed)
    for fit_rows, held_out in folds.split(X, is_test):
        model = LGBMClassifier(n_estimators=TREES, learning_rate=0.1, num_leaves=31, subsample=0.8, subsample_freq=1,
                               colsample_bytree=0.8, random_state=ctx.seed, n_jobs=ctx.n_jobs, verbose=-1)
        model.fit(X.iloc[fit_rows], is_test[fit_rows])
        oof[held_out] = model.predict_proba(X.iloc[held_out])[:, 1]
        gain += model.booster_.feature_importance(importance_type="gain")
    auc = float(roc_auc_score(is_test, oof))
    share = gain / gain.sum() if gain.sum() > 0 else gain
    order = [i for i in np.argsort(-share) if share[i] > 0][: settings.shift_top_features]
    top = _describe_top(X, is_test, [features[i] for i in order], share[order], ctx.seed)
    measured = {"auc": round(auc, 4), "train_rows": len(train), "test_rows": len(test),
                "folds": settings.shift_folds, "top_features": top}
    log.info("Adversarial validation AUC %.3f on %d + %d rows", auc, len(train), len(test))
    named = ", ".join(f"{t['column']} ({100 * t['importance']:.0f}%, alone AUC {t['alone_auc']:.2f})" for t in top)
    if settings.shift_error is not None and auc >= settings.shift_error:
        severity = "error"
    elif auc >= settings.shift_warning:
        severity = "warning"
    else:
        return [Finding("adversarial_validation", "info",
                        f"Train and test look alike: a classifier tells them apart with AUC {auc:.3f} "
                        "(0.5 is indistinguishable)", tuple(t["column"] for t in top), measured)]
    return [Finding(
        "adversarial_validation", severity,
        f"Train and test differ: a classifier tells them apart with AUC {auc:.3f}, mostly through {named}. "
        "Validation scores may not carry over to test; check how the files were split, and consider dropping "
        "or transforming these features (time stamps and running counters often cause this)",
        tuple(t["column"] for t in top), measured)]


def _describe_top(X: pd.DataFrame, is_test: np.ndarray, columns: list[str], shares: np.ndarray,
                  seed: int) -> list[dict]:
    """Each top feature's share of the model's gain and how well it alone separates train from test."""
    folds = make_folds(len(X), seed)
    top = []
    for column, share in zip(columns, shares, strict=True):
        alone = one_feature_strength(X[column], is_test, "binary", 2, 20, folds)
        top.append({"column": column, "importance": round(float(share), 4), "alone_auc": round(alone.value, 4)})
    return top
