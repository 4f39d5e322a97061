"""Repeated ids and repeated rows, within train and between train and test, by hashing feature rows."""

from __future__ import annotations

import pandas as pd

from agent.quality.context import NUMERIC, CheckContext, column_kind
from agent.quality.report import Finding


def _pct(share: float) -> str:
    return f"{100 * share:.3g}%"


def check_duplicate_ids(ctx: CheckContext) -> list[Finding]:
    """Repeated test ids break the submission; repeated train ids mean several rows per entity (group the folds)."""
    id_column = ctx.competition.id_column
    findings = []
    test_repeats = int(ctx.test[id_column].duplicated().sum())
    if test_repeats:
        findings.append(Finding(
            "duplicate_ids", "error",
            f"The id column '{id_column}' repeats {test_repeats} value(s) in test: a submission needs one row per id. "
            "Check the test file", (id_column,), {"test_repeats": test_repeats}))
    if id_column in ctx.train.columns:
        train_ids = ctx.train[id_column]
        train_repeats = int(train_ids.duplicated().sum())
        if train_repeats:
            findings.append(Finding(
                "duplicate_ids", "warning",
                f"The id column '{id_column}' repeats {train_repeats} value(s) in train. If one id is one entity "
                "seen several times, random folds put it on both sides and validation is optimistic",
                (id_column,), {"train_repeats": train_repeats}))
        shared = int(ctx.test[id_column].isin(set(train_ids.dropna())).sum())
        if shared:
            findings.append(Finding(
                "duplicate_ids", "info",
                f"{shared} test id(s) also appear in train's '{id_column}' column; harmless if the two files number "
                "rows independently", (id_column,), {"shared_ids": shared}))
    return findings


def _row_hashes(ctx: CheckContext) -> tuple[pd.Series, pd.Series]:
    """One hash per row over the features, with types aligned so 1 in train meets 1.0 in test."""
    train, test = {}, {}
    for column in ctx.features:
        a, b = ctx.train[column], ctx.test[column]
        if column_kind(a) == NUMERIC and column_kind(b) == NUMERIC:
            train[column], test[column] = a.astype("float64"), b.astype("float64")
        else:
            train[column], test[column] = a.astype(str), b.astype(str)
    hash_ = pd.util.hash_pandas_object
    return (hash_(pd.DataFrame(train, index=ctx.train.index), index=False),
            hash_(pd.DataFrame(test, index=ctx.test.index), index=False))


def check_duplicate_rows(ctx: CheckContext) -> list[Finding]:
    """Rows repeated within train inflate validation; repeats with different targets are label noise."""
    train_hash, test_hash = _row_hashes(ctx)
    findings = []
    repeats = int(train_hash.duplicated().sum())
    if repeats:
        share = repeats / len(train_hash)
        target = ctx.train[ctx.competition.target]
        groups = pd.DataFrame({"row": train_hash.to_numpy(), "target": target.to_numpy()})
        groups = groups[train_hash.duplicated(keep=False).to_numpy()]
        labels = groups.groupby("row")["target"].nunique()
        conflicting = int(groups["row"].isin(labels.index[labels > 1]).sum())
        severity = "warning" if share > ctx.settings.duplicate_warning else "info"
        findings.append(Finding(
            "duplicate_rows", severity,
            f"{repeats} train row(s) ({_pct(share)}) repeat the features of an earlier row"
            + (f"; {conflicting} rows sit in groups whose targets disagree (label noise)" if conflicting else "")
            + ". Copies across folds make validation optimistic; drop exact copies if they are export errors",
            (), {"repeated_rows": repeats, "share": round(share, 6), "rows_with_conflicting_targets": conflicting}))
    in_train = int(test_hash.isin(set(train_hash)).sum())
    if in_train:
        share = in_train / len(test_hash)
        severity = "warning" if share > ctx.settings.train_test_duplicate_warning else "info"
        findings.append(Finding(
            "train_test_duplicates", severity,
            f"{in_train} test row(s) ({_pct(share)}) have features identical to a train row. A model that memorises "
            "train scores well on them; expect the leaderboard to flatter it compared with new data",
            (), {"test_rows_in_train": in_train, "share": round(share, 6)}))
    return findings
