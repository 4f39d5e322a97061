"""How the test set was drawn, inferred from train and test like the target and the metric, and the run's one set
of folds drawn the same way.

Random folds are right when the test rows were drawn at random from the same table. When the test rows come
after the training rows (sales next quarter), or belong to entities training never saw (new customers), random
folds put the future, or the same entity, on both sides of every split: the out-of-fold score flatters, and
everything chosen on it (models, the blend's weights, the production model) is chosen on that flattery. So:

- `time`: a column (a date, or ordered numbers such as a year) in which the test rows lie after the training
  rows. Folds are contiguous blocks of time, each validated by models fitted only on the blocks before it
  (forward-chaining: the earliest block is never validated, agent/competition/folds.py), or on all the other
  blocks (`run.time_folds: blocks`).
- `group`: a column whose values repeat in train while the test rows hold values train never saw. Folds keep
  each value's rows together, so every fold validates on entities its models never saw.
- `group_time`: both; folds are blocks of whole entities in the order of their first appearance, chained
  forward like time's.

Every consumer of out-of-fold predictions takes the folds from here (agent/competition/dataset.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from agent.competition.dates import parse
from agent.competition.folds import NOT_SCORED
from agent.errors import InputError

RANDOM, TIME, GROUP, GROUP_TIME = "random", "time", "group", "group_time"
KINDS = (RANDOM, TIME, GROUP, GROUP_TIME)
AFTER_SHARE = 0.9      # of test rows past (almost) every training row's time: a time split
UNSEEN_SHARE = 0.8     # of test rows whose entity train never saw: a grouped split
MIN_REPEAT = 1.5       # training rows per entity at least, on average: a column that names entities
MIN_GROUPS = 10        # distinct entities in train at least: fewer is a category, not an entity
FEW_NEW_MOMENTS = 0.25  # new values in test, as a share of train's: at most this for numbers to be time


@dataclass(frozen=True)
class Split:
    """How the test set was drawn: `kind`, the `column` it was drawn by (the time column for `time`, the
    entity for `group` and `group_time`), `time` (group_time's time column), and the `evidence` for it."""

    kind: str = RANDOM
    column: str | None = None
    time: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def group_column(self) -> str | None:
        return self.column if self.kind in (GROUP, GROUP_TIME) else None

    @property
    def time_column(self) -> str | None:
        return self.column if self.kind == TIME else self.time

    def describe(self, n_folds: int, forward: bool = False) -> str:
        """How the out-of-fold score was validated, for the manifest, the card and the report (`forward`: the
        folds chain forward, agent/competition/folds.py)."""
        if forward:
            blocks = (f"contiguous blocks of time by '{self.column}'" if self.kind == TIME else
                      f"blocks of whole '{self.column}' entities in the order of their first '{self.time}'")
            return (f"out-of-fold over {n_folds} of {n_folds + 1} {blocks}, forward-chaining: each scored by models "
                    "fitted only on the blocks before it; the earliest is never scored")
        if self.kind == TIME:
            return f"out-of-fold over {n_folds} contiguous blocks of time by '{self.column}' (leave-one-block-out)"
        if self.kind == GROUP:
            return f"out-of-fold over {n_folds} folds that never split a '{self.column}' between fitting and scoring"
        if self.kind == GROUP_TIME:
            return (f"out-of-fold over {n_folds} blocks of whole '{self.column}' entities in the order of their "
                    f"first '{self.time}'")
        return f"out-of-fold over {n_folds} random folds"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Split:
        return cls(**data) if data else cls()


def parse_split(text: Any, where: str | None = None) -> Split:
    """`random`, `time:COLUMN`, `group:COLUMN` or `group_time:GROUP,TIME` (a `split:` key, `--split`)."""
    value = str(text).strip()
    kind, _, rest = value.partition(":")
    columns = [c.strip() for c in rest.split(",")] if rest else []
    expected = {RANDOM: 0, TIME: 1, GROUP: 1, GROUP_TIME: 2}
    if kind not in expected or len(columns) != expected[kind] or not all(columns):
        raise InputError(f"Unknown split {value!r}", where=where,
                         fix="use random, time:COLUMN, group:COLUMN or group_time:GROUP,TIME")
    if kind == GROUP_TIME:
        return Split(GROUP_TIME, columns[0], columns[1])
    return Split(kind, columns[0] if columns else None)


def time_values(frame: pd.DataFrame, column: str, dates: dict[str, str]) -> pd.Series:
    """A column as numbers that order time: days for a date, the values for ordered numbers (a date already
    expanded into its parts is read from its days)."""
    if column not in frame.columns and f"{column}.days" in frame.columns:
        return pd.to_numeric(frame[f"{column}.days"], errors="coerce")
    if column in dates:
        return (parse(frame[column], dates[column]) - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    return pd.to_numeric(frame[column], errors="coerce")


def infer_split(train: pd.DataFrame, test: pd.DataFrame, columns: list[str], dates: dict[str, str]) -> Split:
    """The split the test set shows, with its evidence; `random` when nothing shows otherwise."""
    group = _group_candidate(train, test, [c for c in columns if c not in dates])
    time = _time_candidate(train, test, columns, dates, group)
    if time and group and time["column"] == group["column"]:
        group = _group_candidate(train, test, [c for c in columns if c not in dates and c != time["column"]])
    if time and group:
        return Split(GROUP_TIME, group["column"], time["column"], {"group": group, "time": time})
    if time:
        return Split(TIME, time["column"], evidence=time)
    if group:
        return Split(GROUP, group["column"], evidence=group)
    return Split(RANDOM, evidence={"checked": len(columns), "why": "no column in which the test rows lie after "
                                                                  "the training rows, nor one naming entities "
                                                                  "that only test holds"})


def resolve_split(given_split: Any, train: pd.DataFrame, test: pd.DataFrame, features: list[str],
                   dates: dict[str, str], provenance: dict[str, str]) -> Split:
    """The split a user declared (checked against the data, its evidence recorded), else the one inferred."""
    if given_split is None:
        split = infer_split(train, test, features, dates)
        provenance["split"] = "inferred: " + _split_reason(split)
        return split
    split = given_split if isinstance(given_split, Split) else parse_split(given_split)
    for column in filter(None, (split.column, split.time)):
        if column not in train.columns or column not in test.columns:
            raise InputError(f"The split column '{column}' is not in both train and test",
                             fix="name a column both tables hold, or pass --split random")
    if split.kind != RANDOM:
        split = Split(split.kind, split.column, split.time, evidence_for(split, train, test, dates))
    return split


def unseen_share(split: Split) -> float:
    """The share of test rows whose entity train never saw (0 for a split without entities)."""
    evidence = split.evidence.get("group", split.evidence)
    return float(evidence.get("test_unseen_share", 0.0))


def _split_reason(split: Split) -> str:
    evidence = split.evidence
    if split.kind == "time":
        return (f"{evidence['test_after_train_share']:.0%} of test rows lie after (almost) every training row in "
                f"'{split.column}'")
    if split.kind == "group":
        return (f"{evidence['test_unseen_share']:.0%} of test rows hold a '{split.column}' train never saw, while "
                f"train repeats each {evidence['train_rows_per_group']:g} times on average")
    if split.kind == "group_time":
        return (f"test rows hold '{split.column}' entities train never saw "
                f"({evidence['group']['test_unseen_share']:.0%}) and lie after train in '{split.time}'")
    return evidence.get("why", "no sign of another split")


def evidence_for(split: Split, train: pd.DataFrame, test: pd.DataFrame, dates: dict[str, str]) -> dict[str, Any]:
    """What the data says of a split a user declared (the same figures inference reads)."""
    out: dict[str, Any] = {}
    if split.time_column:
        out["time"] = _time_evidence(train, test, split.time_column, dates)
    if split.group_column:
        out["group"] = _group_evidence(train, test, split.group_column)
    return out


def _time_candidate(train, test, columns, dates, group: dict[str, Any] | None) -> dict[str, Any] | None:
    """The column in which the test rows lie after the training rows. Numbers that also name entities only
    test holds (ids above train's) are ordered time only when the test holds a few of their values, as the
    next years or months: many new values are new entities (the grouped split is then the one to mirror).
    Numeric columns are screened together (a table can have 50,000 of them); only those that pass are
    examined one by one."""
    numeric = [c for c in _numeric(train, columns) if c not in dates]
    found = []
    for column in [c for c in columns if c in dates] + _later_in_test(train, test, numeric):
        evidence = _time_evidence(train, test, column, dates)
        if evidence["test_after_train_share"] < AFTER_SHARE or evidence["train_distinct"] < 3:
            continue
        if column not in dates and group and group["column"] == column and \
                group["test_groups"] > max(3, FEW_NEW_MOMENTS * evidence["train_distinct"]):
            continue
        found.append(evidence)
    # a date first (what a person would name), then the cleanest cut
    found.sort(key=lambda e: (e["column"] in dates, e["test_after_train_share"]), reverse=True)
    return found[0] if found else None


def _later_in_test(train: pd.DataFrame, test: pd.DataFrame, numeric: list[str]) -> list[str]:
    """The numeric columns in which most test values lie past 99% of train's, computed for all at once."""
    if not numeric:
        return []
    before, after = train[numeric].astype(float), _as_numbers(test.reindex(columns=numeric))
    cut = before.quantile(0.99)
    share = (after > cut).sum() / after.notna().sum().clip(lower=1)
    later = list(share.index[share >= AFTER_SHARE])
    return [c for c in later if before[c].nunique() >= 3]


def _as_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Test's copy of train's numeric columns as numbers: a stray token in test ('?') is missing here; the
    data checks name it."""
    odd = [c for c, kind in frame.dtypes.items() if kind.kind not in "biuf"]
    if odd:
        frame = frame.copy()
        frame[odd] = frame[odd].apply(pd.to_numeric, errors="coerce")
    return frame.astype(float)


def _time_evidence(train, test, column, dates) -> dict[str, Any]:
    before, after = time_values(train, column, dates).dropna(), time_values(test, column, dates).dropna()
    if before.empty or after.empty:
        return {"column": column, "test_after_train_share": 0.0, "train_distinct": int(before.nunique())}
    cut = float(before.quantile(0.99))
    return {"column": column, "format": dates.get(column),
            "train_range": [_shown(before.min(), column, dates), _shown(before.max(), column, dates)],
            "test_range": [_shown(after.min(), column, dates), _shown(after.max(), column, dates)],
            "test_after_train_share": round(float((after > cut).mean()), 4),
            "train_distinct": int(before.nunique())}


def _shown(value: float, column: str, dates: dict[str, str]) -> Any:
    if column in dates:
        return (pd.Timestamp("1970-01-01") + pd.Timedelta(days=float(value))).round("s").isoformat()
    return float(value)


def _group_candidate(train, test, columns) -> dict[str, Any] | None:
    """The column naming entities only test holds. Columns are screened together by how many values they
    hold and how often train repeats them; only those that pass are examined one by one."""
    if not columns:
        return None
    distinct, present = distinct_values(train[columns]), train[columns].notna().sum()
    kinds = train.dtypes
    screened = [c for c in columns if distinct[c] >= MIN_GROUPS and present[c] >= MIN_REPEAT * distinct[c]]
    found = []
    for column in screened:
        if kinds[column].kind == "f" and not _integer_valued(train[column]):
            continue  # a measurement, not a name
        evidence = _group_evidence(train, test, column)
        if evidence["test_unseen_share"] >= UNSEEN_SHARE and evidence["test_groups"] >= 2:
            found.append(evidence)
    found.sort(key=lambda e: (e["test_unseen_share"], e["train_groups"]), reverse=True)
    return found[0] if found else None


def distinct_values(frame: pd.DataFrame) -> pd.Series:
    """Distinct non-missing values per column: numbers counted for all columns at once (sorted, then the changes
    counted), the rest one by one (pandas' nunique is a loop over columns)."""
    numeric = _numeric(frame, list(frame.columns))
    counts = {}
    if numeric:
        values = np.sort(frame[numeric].to_numpy(dtype=float), axis=0)  # NaN sort last
        present = ~np.isnan(values)
        changes = (np.diff(values, axis=0) != 0) & present[1:]
        counts.update(zip(numeric, (changes.sum(axis=0) + present[0]).tolist(), strict=True))
    others = [c for c in frame.columns if c not in counts]
    if others:
        counts.update(frame[others].nunique().to_dict())
    return pd.Series(counts)[list(frame.columns)]


def _group_evidence(train, test, column) -> dict[str, Any]:
    seen = set(train[column].dropna().map(str))
    present = test[column].dropna().map(str)
    return {"column": column, "train_groups": int(train[column].nunique()),
            "train_rows_per_group": round(len(train[column].dropna()) / max(1, train[column].nunique()), 2),
            "test_groups": int(present.nunique()),
            "test_unseen_share": round(float((~present.isin(seen)).mean()) if len(present) else 0.0, 4)}


def _numeric(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """The numeric columns (booleans aside), read from the dtypes at once: a table can have 50,000 columns."""
    kinds = frame.dtypes
    return [c for c in columns if kinds[c].kind in "iuf"]


def _integer_valued(values: pd.Series) -> bool:
    numbers = values.dropna().to_numpy(dtype=float)
    return bool(len(numbers)) and bool(np.all(numbers == np.round(numbers)))


def structured_folds(split: Split, frame: pd.DataFrame, y: np.ndarray, problem_type: str, n_folds: int, seed: int,
                     dates: dict[str, str], forward: bool = False) -> np.ndarray:
    """Fold index per training row for a time, group or group_time split (`frame`: the training rows).

    `forward`: time blocks chain forward, one block more than `n_folds`, the earliest NOT_SCORED; where time
    holds too few moments for two scored blocks, the blocks are left out one at a time instead."""
    if split.kind == TIME:
        order = time_values(frame, split.column, dates).fillna(-np.inf).to_numpy()
        return _time_folds(order, n_folds, forward)
    groups = frame[split.column].astype(str).where(frame[split.column].notna(), "<missing>").to_numpy()
    n_groups = len(set(groups))
    if n_groups < 2:
        raise InputError(f"The split column '{split.column}' holds one entity in train: nothing to fold by",
                         fix="check the split column, or pass --split random")
    if split.kind == GROUP_TIME:
        first = pd.Series(time_values(frame, split.time, dates).to_numpy()).groupby(groups).transform("min")
        return _time_folds(first.fillna(-np.inf).to_numpy(), n_folds, forward)
    return _group_folds(groups, y, problem_type, min(n_folds, n_groups), seed)


def _time_folds(order: np.ndarray, n_folds: int, forward: bool) -> np.ndarray:
    if forward:
        blocks = _blocks(order, n_folds + 1)
        if blocks.max() >= 2:  # two scored blocks at least: bagging needs two folds
            return np.where(blocks == 0, NOT_SCORED, blocks - 1)
    return _blocks(order, n_folds)


def _blocks(order: np.ndarray, n_folds: int) -> np.ndarray:
    """Contiguous blocks of about equal rows along `order`; rows with the same order value (one moment, or one
    entity's first moment) always fall in one block."""
    ranks = pd.Series(np.asarray(order, dtype=float)).rank(method="min").to_numpy()
    counts = pd.Series(ranks).value_counts().sort_index()
    blocks = min(n_folds, len(counts))
    if blocks < 2:
        raise InputError("The split column holds one moment in train: it cannot be cut into blocks of time",
                         fix="check the split column, or pass --split random")
    # a value's block: where the share of rows up to and including it falls among `blocks` equal parts
    cumulative = counts.cumsum().to_numpy() / len(ranks)
    block_of_value = np.minimum((cumulative * blocks - 1e-9).astype(int), blocks - 1)
    lookup = dict(zip(counts.index.to_numpy(), block_of_value, strict=True))
    return _renumber(np.array([lookup[r] for r in ranks], dtype=int))


def _renumber(folds: np.ndarray) -> np.ndarray:
    """Fold indices 0..K-1 with none empty, in their order."""
    used = np.unique(folds)
    return np.searchsorted(used, folds)


def _group_folds(groups: np.ndarray, y: np.ndarray, problem_type: str, n_folds: int, seed: int) -> np.ndarray:
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

    if problem_type != "regression":
        splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed + 1)
    else:
        splitter = GroupKFold(n_splits=n_folds, shuffle=True, random_state=seed + 1)
    folds = np.empty(len(groups), dtype=int)
    for fold, (_, valid) in enumerate(splitter.split(np.zeros(len(groups)), y, groups)):
        folds[valid] = fold
    return folds
