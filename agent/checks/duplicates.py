"""Repeated ids and repeated rows, within train and between train and test, by hashing feature rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from agent.checks.context import NUMERIC, CheckContext
from agent.checks.report import Finding


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


HASH_CELLS = 1 << 21  # cells hashed at once: bounds the memory of the per-cell hashes on a long table


def _row_hashes(ctx: CheckContext) -> tuple[pd.Series, pd.Series]:
    """One hash per row over the features, with types aligned so 1 in train meets 1.0 in test.

    Cells are hashed a block of columns at a time and combined per row with a fixed odd weight per column
    position: the cost is one vectorised pass over the cells, not a step per column, on any width. Rows hash
    equal exactly when every cell does (up to 64-bit collisions), so duplicates are found without sampling.
    """
    numeric = [c for c in ctx.features if ctx.kinds[c] == NUMERIC and ctx.test_kinds[c] == NUMERIC]
    chosen = set(numeric)
    other = [c for c in ctx.features if c not in chosen]
    weights = np.random.default_rng(0).integers(0, 2 ** 63, size=len(numeric) + len(other), dtype=np.uint64)
    weights = weights * np.uint64(2) + np.uint64(1)
    return (pd.Series(_hash_rows(ctx.train, numeric, other, weights), index=ctx.train.index),
            pd.Series(_hash_rows(ctx.test, numeric, other, weights), index=ctx.test.index))


def _hash_rows(frame: pd.DataFrame, numeric: list[str], other: list[str], weights: np.ndarray) -> np.ndarray:
    out = np.zeros(len(frame), dtype=np.uint64)
    step = max(1, HASH_CELLS // max(len(frame), 1))
    for offset, columns, as_text in ((0, numeric, False), (len(numeric), other, True)):
        for start in range(0, len(columns), step):
            block = frame[columns[start:start + step]]
            values = (block.astype(str) if as_text else block.astype("float64")).to_numpy()
            cells = pd.util.hash_array(values.ravel(order="F")).reshape(values.shape[1], len(frame))
            with np.errstate(over="ignore"):  # wrapping uint64 arithmetic is the point
                out += (cells * weights[offset + start:offset + start + values.shape[1], None]).sum(axis=0)
    return out


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
