"""Leakage checks: a column that gives the answer away, an id or row order that tracks the target, a target copy."""

from __future__ import annotations

import re
from functools import cached_property

import numpy as np
import pandas as pd

from agent.checks.context import NUMERIC, CheckContext, column_kind, sample_positions
from agent.checks.onefeature import N_FOLDS, Strength, make_folds, one_feature_strength
from agent.checks.report import Finding
from agent.competition.split import RANDOM, structured_folds
from agent.errors import InputError

ORDER_BINS = 20  # the id and row order are scored for a broad trend, not for a value-by-value lookup


class _Sample:
    """The labelled rows the leakage checks share: sampled once, positions kept for the row-order check."""

    def __init__(self, ctx: CheckContext):
        self.ctx = ctx
        positions = sample_positions(len(ctx.labelled), ctx.settings.leak_max_rows, ctx.seed)
        self.rows = ctx.labelled.iloc[positions].reset_index(drop=True)
        self.position = pd.Series(positions, name="row position")
        self.y = ctx.competition.encode_target(self.rows[ctx.competition.target])
        self.folds = _folds(ctx, self.rows, self.y)

    @cached_property
    def n_classes(self) -> int:
        return len(self.ctx.competition.classes)

    def strength(self, values: pd.Series, bins: int) -> Strength:
        competition = self.ctx.competition
        return one_feature_strength(values, self.y, competition.problem_type,
                                    self.n_classes, bins, self.folds, competition.metric)


def _folds(ctx: CheckContext, rows: pd.DataFrame, y: np.ndarray) -> np.ndarray:
    """The run's kind of folds: time blocks or disjoint groups where the test set was drawn so, for a feature
    seen on both sides of random folds (a customer id, a date) looks strong there and is useless on the test
    set; random folds otherwise."""
    competition = ctx.competition
    split = competition.test_split
    if split.kind != RANDOM:
        try:
            return structured_folds(split, rows, y, competition.problem_type, N_FOLDS, ctx.seed, competition.dates)
        except InputError:  # the sample holds one entity or one moment: random folds say what they can
            pass
    return make_folds(len(rows), ctx.seed)


def _sample(ctx: CheckContext, check: str) -> _Sample:
    """The shared sample, its row cap recorded for `check` (each check that reads it is bounded by it)."""
    if "leak_sample" not in ctx.cache:
        ctx.cache["leak_sample"] = _Sample(ctx)
    sample = ctx.cache["leak_sample"]
    ctx.note_rows(check, len(sample.rows), len(ctx.labelled), "labelled train rows", "leak_max_rows")
    return sample


def check_single_feature_leak(ctx: CheckContext) -> list[Finding]:
    """A column that alone predicts the target almost perfectly is usually recorded after the fact."""
    sample, settings = _sample(ctx, "single_feature_leak"), ctx.settings
    target = ctx.competition.target
    findings = []
    for column in ctx.columns_for("single_feature_leak", ctx.features):
        result = sample.strength(sample.rows[column], settings.leak_bins)
        if result.strength < settings.leak_warning:
            continue
        if result.strength >= settings.leak_error:
            findings.append(Finding(
                "single_feature_leak", "error",
                f"Column '{column}' alone predicts '{target}' almost perfectly ({result.describe()}). It is "
                "probably derived from the target or recorded after it: drop it (`drop:` in competition.yaml), or "
                "--allow single_feature_leak if it is truly known at prediction time", (column,), result.measured()))
        else:
            findings.append(Finding(
                "single_feature_leak", "warning",
                f"Column '{column}' alone predicts '{target}' very well ({result.describe()}). Check that it is "
                "known at prediction time", (column,), result.measured()))
    return findings


def check_id_and_order(ctx: CheckContext) -> list[Finding]:
    """An id or a row order that tracks the target means sorted or time-ordered data, or ids assigned by outcome."""
    sample, settings = _sample(ctx, "id_and_order"), ctx.settings
    target, id_column = ctx.competition.target, ctx.competition.id_column
    findings = []
    if id_column in sample.rows.columns and sample.rows[id_column].notna().any():
        result = sample.strength(sample.rows[id_column], ORDER_BINS)
        if result.strength >= settings.order_warning:
            findings.append(Finding(
                "id_predicts_target", "warning",
                f"The id column '{id_column}' tracks '{target}' ({result.describe()}). Ids were assigned in an order "
                "related to the outcome (sorted or time-ordered data); if test ids follow the same scheme the "
                "leaderboard can be gamed by id, which a production model cannot do", (id_column,),
                result.measured()))
    result = sample.strength(sample.position, ORDER_BINS)
    if result.strength >= settings.order_warning:
        findings.append(Finding(
            "row_order_predicts_target", "warning",
            f"The order of train rows tracks '{target}' ({result.describe()}). The file is sorted by the target or "
            f"by time. {_order_advice(ctx)}", (), result.measured()))
    return findings


def _order_advice(ctx: CheckContext) -> str:
    split = ctx.competition.test_split
    if split.kind == RANDOM:
        return ("The test set looked drawn at random, so podium's folds are random: if the rows are in time order "
                "and the test set lies later, validation is optimistic; pass --split time:COLUMN")
    return f"podium's folds already follow the test set's split ({split.describe(N_FOLDS)})"


def _name_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _text_keys(values: pd.Series) -> pd.Series:
    """Text for comparing labels across types: 1, 1.0 and '1' meet; spaces and case do not matter."""
    if column_kind(values) == NUMERIC:
        numbers = values.astype(float)
        whole = np.isfinite(numbers) & (numbers == np.round(numbers))
        return pd.Series(np.where(whole, numbers.round().astype("Int64").astype(str), numbers.astype(str)),
                         index=values.index)
    return values.astype(str).str.strip().str.lower()


def _equal_share(feature: pd.Series, target: pd.Series) -> float:
    present = feature.notna().to_numpy()
    if not present.any():
        return 0.0
    a, b = feature[present], target[present]
    if column_kind(a) == NUMERIC and column_kind(b) == NUMERIC:
        x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
        scale = float(np.nanstd(y)) if len(y) > 1 else 0.0
        equal = np.isclose(x, y, rtol=1e-9, atol=1e-6 * scale or 1e-12)  # a copy rounded for export still counts
    else:
        equal = (_text_keys(a).to_numpy() == _text_keys(b).to_numpy())
    return float(equal.sum() / len(feature))


def check_target_in_features(ctx: CheckContext) -> list[Finding]:
    """The answers shipped with the questions: the target column in test, or a feature that copies it."""
    competition, settings = ctx.competition, ctx.settings
    target = competition.target
    findings = []
    if target in ctx.test.columns and ctx.test[target].notna().any():
        present = int(ctx.test[target].notna().sum())
        findings.append(Finding(
            "target_in_features", "error",
            f"The test file holds the target column '{target}' with {present} value(s): the answers ship with the "
            "questions. Remove it from test.csv", (target,), {"test_rows_with_target": present}))
    rows = _sample(ctx, "target_in_features").rows
    labels = rows[target]
    n_classes = len(competition.classes)
    for column in ctx.columns_for("target_in_features", ctx.features):
        values = rows[column]
        if competition.is_classification and values.nunique() > n_classes:
            continue  # a copy of a class label holds no more distinct values than there are classes
        share = _equal_share(values, labels)
        if share >= settings.copy_share:
            findings.append(Finding(
                "target_in_features", "error",
                f"Column '{column}' equals the target '{target}' in {100 * share:.2f}% of train rows: it is a copy "
                "of the answer. Drop it (`drop:` in competition.yaml)", (column,), {"equal_share": round(share, 6)}))
    similar = [c for c in ctx.features if _name_key(c) == _name_key(target)]
    for column in similar:
        findings.append(Finding(
            "target_in_features", "warning",
            f"Feature '{column}' is named like the target '{target}'. Check that it is not the target under "
            "another spelling", (column,), {}))
    return findings
