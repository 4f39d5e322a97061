"""Schema checks: do train and test agree on columns and types, and is each column usable as a feature?"""

from __future__ import annotations

import pandas as pd

from agent.checks.context import NUMERIC, CheckContext
from agent.checks.report import Finding


def _examples(values, limit: int = 5) -> list[str]:
    return [str(v) for v in list(values)[:limit]]


def _pct(share: float) -> str:
    return f"{100 * share:.3g}%"


def check_column_mismatch(ctx: CheckContext) -> list[Finding]:
    """Columns only train has cannot be used at prediction time: say so, so nobody expects them to matter."""
    ignore = {ctx.competition.id_column, ctx.competition.target}
    only_train = [c for c in ctx.train.columns if c not in ctx.test.columns and c not in ignore]
    if not only_train:
        return []
    return [Finding("column_mismatch", "info",
                    f"{len(only_train)} train column(s) are not in test and are left out of the features: "
                    f"{_examples(only_train, 10)}", tuple(only_train), {"train_only": only_train})]


def check_type_mismatch(ctx: CheckContext) -> list[Finding]:
    """A feature numeric in one table and text in the other is usually a stray token ('?', 'n/a') in a file.

    Kinds come from the dtypes, so only columns whose kinds differ are read: a wide table costs little.
    """
    findings = []
    differing = [c for c in ctx.features if ctx.kinds[c] != ctx.test_kinds[c]]
    for column in ctx.columns_for("type_mismatch", differing, "columns whose type differs"):
        train, test = ctx.train[column], ctx.test[column]
        if train.isna().all() or test.isna().all():
            continue  # an empty side has no type; the constant and missing-value checks report it
        kinds = {"train": ctx.kinds[column], "test": ctx.test_kinds[column]}
        measured: dict = {"train_type": str(train.dtype), "test_type": str(test.dtype)}
        detail = ""
        text_side = next((role for role, kind in kinds.items() if kind != NUMERIC), None)
        if NUMERIC in kinds.values() and text_side:
            values = ctx.train[column] if text_side == "train" else ctx.test[column]
            present = values.dropna()
            bad = present[pd.to_numeric(present, errors="coerce").isna()]
            measured.update({"table_with_text": text_side, "non_numeric_values": int(len(bad)),
                             "examples": _examples(bad.astype(str).unique())})
            detail = (f"; {len(bad)} {text_side} value(s) are not numbers, e.g. {measured['examples']}"
                      if len(bad) else "")
        findings.append(Finding(
            "type_mismatch", "error",
            f"Column '{column}' is {kinds['train']} in train but {kinds['test']} in test{detail}. "
            "Clean or mark those values as missing (e.g. na_values) so both files agree",
            (column,), measured))
    return findings


def check_constant_columns(ctx: CheckContext) -> list[Finding]:
    """A column with one value teaches nothing; a near-constant one teaches almost nothing and may overfit."""
    constant, near = {}, {}
    for column in ctx.columns_for("constant_columns", ctx.features):
        shares = ctx.train[column].value_counts(dropna=False, normalize=True)
        if len(shares) <= 1:
            constant[column] = str(shares.index[0]) if len(shares) else "empty"
        elif shares.iloc[0] >= ctx.settings.near_constant_share:
            near[column] = {"value": str(shares.index[0]), "share": round(float(shares.iloc[0]), 6)}
    findings = []
    if constant:
        findings.append(Finding(
            "constant_columns", "warning",
            f"{len(constant)} feature(s) hold a single value in train and carry no information: "
            f"{_examples(constant, 10)}. Drop them (`drop:` in competition.yaml) to save time",
            tuple(constant), {"values": constant}))
    if near:
        findings.append(Finding(
            "near_constant_columns", "info",
            f"{len(near)} feature(s) hold one value in at least {_pct(ctx.settings.near_constant_share)} of train "
            f"rows: {_examples(near, 10)}. Models may overfit the few other rows",
            tuple(near), {"dominant": near}))
    return findings


def check_missing_values(ctx: CheckContext) -> list[Finding]:
    """Missing rates per feature; a rate that differs between train and test means the model meets the unknown."""
    settings = ctx.settings
    train_rate = ctx.train[ctx.features].isna().mean()
    test_rate = ctx.test[ctx.features].isna().mean()
    rates = {c: {"train": round(float(train_rate[c]), 6), "test": round(float(test_rate[c]), 6)}
             for c in ctx.features if train_rate[c] > 0 or test_rate[c] > 0}
    findings = []
    if rates:
        findings.append(Finding("missing_values", "info", f"{len(rates)} feature(s) have missing values",
                                tuple(rates), {"rates": rates}))
    high = [c for c, r in rates.items() if max(r.values()) > settings.missing_warning]
    if high:
        findings.append(Finding(
            "missing_values", "warning",
            f"{len(high)} feature(s) are missing in more than {_pct(settings.missing_warning)} of rows: "
            f"{_examples(high, 10)}. Check that they were exported correctly",
            tuple(high), {"rates": {c: rates[c] for c in high}}))
    shifted = [c for c, r in rates.items() if abs(r["train"] - r["test"]) > settings.missing_shift]
    if shifted:
        findings.append(Finding(
            "missing_values", "warning",
            f"{len(shifted)} feature(s) are missing far more often in one file than the other "
            f"(over {_pct(settings.missing_shift)} apart): "
            + ", ".join(f"{c} (train {_pct(rates[c]['train'])}, test {_pct(rates[c]['test'])})" for c in shifted[:10])
            + ". The model will meet missing values it rarely trained on",
            tuple(shifted), {"rates": {c: rates[c] for c in shifted}}))
    return findings


def check_missing_target(ctx: CheckContext) -> list[Finding]:
    missing = int(ctx.train[ctx.competition.target].isna().sum())
    if not missing:
        return []
    share = missing / len(ctx.train)
    return [Finding("missing_target", "warning",
                    f"{missing} train row(s) ({_pct(share)}) have no value in the target "
                    f"'{ctx.competition.target}' and are left out of training",
                    (ctx.competition.target,), {"rows": missing, "share": round(share, 6)})]


def _cardinality(ctx: CheckContext, column: str) -> tuple[int, int, bool]:
    """Distinct values, non-missing rows, and whether that makes the text column high-cardinality."""
    values = ctx.train[column].dropna()
    distinct = int(values.nunique())
    high = bool(len(values)) and distinct >= ctx.settings.high_cardinality_min and \
        distinct / len(values) >= ctx.settings.high_cardinality_ratio
    return distinct, len(values), high


def check_high_cardinality(ctx: CheckContext) -> list[Finding]:
    """Text columns with (nearly) a value per row are identifiers or free text, not categories."""
    findings = []
    for column in ctx.columns_for("high_cardinality", ctx.text_features, "text columns"):
        distinct, rows, high = _cardinality(ctx, column)
        if not high:
            continue
        ratio = distinct / rows
        kind = "every value is distinct: an identifier or free text" if distinct == rows else \
            f"{distinct} distinct values in {rows} rows"
        findings.append(Finding(
            "high_cardinality", "warning",
            f"Text column '{column}' has {kind}. As a category it cannot generalise; drop it or derive "
            "features from it", (column,), {"distinct": distinct, "rows": rows, "ratio": round(ratio, 4)}))
    return findings


def check_unseen_categories(ctx: CheckContext) -> list[Finding]:
    """Categories only test has get no learned effect: the model falls back to a default for those rows."""
    findings = []
    for column in ctx.columns_for("unseen_categories", ctx.text_features, "text columns"):
        test = ctx.test[column].dropna()
        if test.empty:
            continue
        unseen = test[~test.isin(set(ctx.train[column].dropna().unique()))]
        if unseen.empty:
            continue
        share = len(unseen) / len(ctx.test)
        identifier_like = _cardinality(ctx, column)[2]  # already a high_cardinality warning: no second one
        severity = "warning" if share > ctx.settings.unseen_warning and not identifier_like else "info"
        values = unseen.value_counts()
        findings.append(Finding(
            "unseen_categories", severity,
            f"Column '{column}': {len(unseen)} test row(s) ({_pct(share)}) hold {len(values)} categor(ies) never "
            f"seen in train, e.g. {_examples(values.index)}"
            + (" (expected: the column is high-cardinality)" if identifier_like else ""),
            (column,), {"rows": int(len(unseen)), "share": round(share, 6), "categories": int(len(values)),
                        "examples": _examples(values.index, 10)}))
    return findings
