"""Adversarial validation: if a quick model can tell train rows from test rows, the two come from different worlds."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from agent.checks.context import NUMERIC, CheckContext, column_kind, sample_positions
from agent.checks.onefeature import make_folds, one_feature_strength
from agent.checks.report import Bound, Finding
from agent.columns import with_encoded_names
from agent.deadline import Deadline

log = logging.getLogger("podium.quality")
MIN_ROWS_PER_SIDE = 30
TREES = 100
PRESENCE_CELLS = 1 << 22  # cells tested for missing values at once: bounds memory on a long table


def _has_values(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Per column, whether it holds any value: a vectorised pass a block of columns at a time."""
    step = max(1, PRESENCE_CELLS // max(len(frame), 1))
    parts = [frame[columns[i:i + step]].notna().any().to_numpy() for i in range(0, len(columns), step)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


class _FoldClock:
    """A LightGBM callback that ends boosting once this fold's share of the check's time is used; the trees
    built so far make the model. `fired` tells a stop for time from LightGBM running out of splits."""

    def __init__(self, end: Deadline):
        self.end, self.fired = end, False

    def __call__(self, env) -> None:
        if self.end.passed():
            from lightgbm.callback import EarlyStopException

            self.fired = True
            raise EarlyStopException(env.iteration, [])


def _fold_clock(ctx: CheckContext, folds_left: int) -> _FoldClock | None:
    """None without a deadline, so an unbounded run fits exactly as before."""
    end = ctx.check_deadline if ctx.check_deadline is not None else ctx.deadline
    if end is None:
        return None
    return _FoldClock(Deadline.after(max(0.0, end.remaining()) / folds_left))


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
    present = _has_values(ctx.train, ctx.features) | _has_values(ctx.test, ctx.features)
    features = ctx.sample_columns("adversarial_validation",
                                  [c for c, has in zip(ctx.features, present, strict=True) if has])
    train = ctx.train.iloc[sample_positions(len(ctx.train), settings.shift_max_rows, ctx.seed)]
    test = ctx.test.iloc[sample_positions(len(ctx.test), settings.shift_max_rows, ctx.seed + 1)]
    ctx.note_rows("adversarial_validation", len(train), len(ctx.train), "train rows", "shift_max_rows")
    ctx.note_rows("adversarial_validation", len(test), len(ctx.test), "test rows", "shift_max_rows")
    if min(len(train), len(test)) < MIN_ROWS_PER_SIDE or not features:
        return [Finding("adversarial_validation", "info",
                        f"Skipped: adversarial validation needs at least {MIN_ROWS_PER_SIDE} rows in train and in "
                        f"test and one feature with values (train {len(train)}, test {len(test)} rows)",
                        (), {"train_rows": len(train), "test_rows": len(test)})]
    X = _model_frame(train, test, features)
    named = with_encoded_names(X)  # LightGBM refuses some names a CSV header may hold; findings keep the originals
    is_test = np.r_[np.zeros(len(train), dtype=int), np.ones(len(test), dtype=int)]
    oof = np.zeros(len(X))
    gain = np.zeros(len(features))
    scored = np.zeros(len(X), dtype=bool)
    splits = list(StratifiedKFold(settings.shift_folds, shuffle=True, random_state=ctx.seed).split(X, is_test))
    folds_done = trees = 0
    cut_short = False
    for index, (fit_rows, held_out) in enumerate(splits):
        if index and ctx.out_of_time():
            break  # the folds already scored still give an out-of-fold AUC, on fewer rows
        model = LGBMClassifier(n_estimators=TREES, learning_rate=0.1, num_leaves=31, subsample=0.8, subsample_freq=1,
                               colsample_bytree=0.8, random_state=ctx.seed, n_jobs=ctx.n_jobs, verbose=-1)
        clock = _fold_clock(ctx, len(splits) - index)
        model.fit(named.iloc[fit_rows], is_test[fit_rows], **({"callbacks": [clock]} if clock else {}))
        oof[held_out] = model.predict_proba(named.iloc[held_out])[:, 1]
        scored[held_out] = True
        gain += model.booster_.feature_importance(importance_type="gain")
        folds_done += 1
        trees += model.booster_.current_iteration()
        cut_short = cut_short or bool(clock and clock.fired)
    if folds_done < len(splits):
        ctx.bounds.append(Bound("adversarial_validation", "sampled", "its share of the deadline ran out: the "
                                "out-of-fold AUC is over the folds that were scored", "rows scored out of fold",
                                int(scored.sum()), len(X)))
    if cut_short:
        ctx.bounds.append(Bound("adversarial_validation", "sampled", "its share of the deadline ran out: boosting "
                                "stopped early, so the AUC understates how different the tables are", "trees",
                                trees, TREES * folds_done))
    auc = float(roc_auc_score(is_test[scored], oof[scored]))
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
