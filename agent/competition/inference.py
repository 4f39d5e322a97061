"""Infer what a competition asks for from its files: id, target, problem type, metric, submission format.

Every inferred field can be overridden; ``Competition.provenance`` records where each value came from
("inferred: <why>", "competition.yaml", "configs/competitions/<slug>.yaml", "command line", "kaggle").
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agent.competition.dates import detect_dates
from agent.competition.labels import label_key, native
from agent.competition.metrics import BINARY, MULTICLASS, REGRESSION, Metric, default_metric, get_metric
from agent.competition.split import UNSEEN_SHARE, Split, resolve_split, unseen_share
from agent.competition.tables import CompetitionData
from agent.errors import InputError

LABELS, PROBABILITY, CLASS_PROBABILITIES, VALUES = "labels", "probability", "class_probabilities", "values"
SUBMISSION_FORMATS = (LABELS, PROBABILITY, CLASS_PROBABILITIES, VALUES)
OVERRIDABLE = ("id_column", "target", "task", "evaluation_metric", "positive_class", "submission_format", "drop",
               "split")
MAX_INTEGER_CLASSES = 20  # an integer target with at most this many values is treated as classes


@dataclass(frozen=True)
class Competition:
    """What a competition asks for. Frozen: inference builds it once, everything downstream reads it."""

    slug: str
    id_column: str
    target: str
    problem_type: str
    metric_name: str
    submission_format: str
    submission_columns: tuple[str, ...]
    features: tuple[str, ...]
    classes: tuple[Any, ...] = ()
    class_columns: tuple[str, ...] = ()
    positive_class: Any = None
    dropped_columns: tuple[str, ...] = ()
    dates: dict[str, str] = field(default_factory=dict)  # date column -> the format it is written in
    split: dict[str, Any] = field(default_factory=dict)  # how the test set was drawn (agent/competition/split.py)
    # side tables joined onto the rows (agent/competition/relations): `root` (their side data) and `joins`
    relations: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, str] = field(default_factory=dict, compare=False)
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def metric(self) -> Metric:
        return get_metric(self.metric_name)

    @property
    def prediction_columns(self) -> tuple[str, ...]:
        return tuple(c for c in self.submission_columns if c != self.id_column)

    @property
    def test_split(self) -> Split:
        """How the test set was drawn: what the run's folds mirror."""
        return Split.from_dict(self.split)

    @property
    def is_classification(self) -> bool:
        return self.problem_type in (BINARY, MULTICLASS)

    def encode_target(self, values: pd.Series) -> np.ndarray:
        """Raw labels to codes 0..K-1 in class order (regression: floats)."""
        if not self.is_classification:
            return pd.to_numeric(values, errors="raise").to_numpy(dtype=float)
        lookup = {label_key(c): i for i, c in enumerate(self.classes)}
        codes = np.array([lookup.get(label_key(v), -1) for v in values], dtype=int)
        if (codes < 0).any():
            unknown = sorted({str(v) for v, c in zip(values, codes, strict=True) if c < 0})[:5]
            raise InputError(f"Target values {unknown} are not among the competition's classes {list(self.classes)}")
        return codes

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["classes"] = [native(c) for c in self.classes]
        data["positive_class"] = native(self.positive_class)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Competition:
        tuples = ("submission_columns", "features", "classes", "class_columns", "dropped_columns")
        return cls(**{k: tuple(v) if k in tuples else v for k, v in data.items()})


def infer_competition(
    slug: str,
    data: CompetitionData,
    overrides: dict[str, Any] | None = None,
    sources: dict[str, str] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Competition:
    """Build the Competition from the tables; `overrides[field]` wins and `sources[field]` says from where."""
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(overrides) - set(OVERRIDABLE))
    if unknown:
        raise InputError(f"Unknown competition field(s) {unknown}", fix=f"use only {', '.join(OVERRIDABLE)}")
    sources = sources or {}
    provenance: dict[str, str] = {}

    def given(name: str) -> Any:
        if name in overrides:
            provenance[name] = sources.get(name, "override")
            return overrides[name]
        return None

    train, test, sample = data.train, data.test, data.sample_submission
    id_column = given("id_column") or _infer_id_column(test, sample, provenance)
    for table, role in ((test, "test"), (sample, "sample submission")):
        if id_column not in table.columns:
            raise InputError(f"The id column '{id_column}' is not in the {role} file",
                             fix="set `id_column` in competition.yaml to the column that names each test row")

    target, class_columns = _resolve_target(given("target"), id_column, train, test, sample, provenance,
                                            data.files.get("test"))
    labels = train[target]
    if labels.isna().all():
        raise InputError(f"The target column '{target}' is empty in train")
    if labels.dropna().nunique() < 2:
        raise InputError(
            f"The target column '{target}' has a single value ({native(labels.dropna().iloc[0])!r}) in train: "
            "there is nothing to learn", fix="check that this is the right target and the full training file")

    metric_name = given("evaluation_metric")
    metric = get_metric(metric_name) if metric_name else None
    problem_type = given("task") or _infer_problem_type(labels, metric, class_columns, provenance)
    if problem_type not in (BINARY, MULTICLASS, REGRESSION):
        raise InputError(f"Unknown task '{problem_type}'", fix="use binary, multiclass or regression")

    classes: tuple[Any, ...] = ()
    positive_class = None
    if problem_type != REGRESSION:
        classes, class_columns = _order_classes(labels, class_columns, sample, id_column, target)
        if problem_type == BINARY and len(classes) != 2:
            raise InputError(f"The task is binary but the target '{target}' has {len(classes)} classes",
                             fix="set `task: multiclass` in competition.yaml, or check the target")
        if problem_type == BINARY:
            positive_class = given("positive_class")
            if positive_class is None:
                positive_class = classes[1]
                provenance["positive_class"] = "inferred: the second class in sorted order"
            match = [c for c in classes if label_key(c) == label_key(positive_class)]
            if not match:
                raise InputError(f"positive_class {positive_class!r} is not one of the classes {list(classes)}")
            positive_class = match[0]
            classes = tuple(c for c in classes if c is not positive_class) + (positive_class,)
    elif not pd.api.types.is_numeric_dtype(labels):
        raise InputError(f"The task is regression but the target '{target}' is not numeric",
                         fix="set `task: binary` or `task: multiclass` in competition.yaml")
    if problem_type == REGRESSION and metric is not None:
        metric.check_target(labels.dropna(), target)

    prediction_columns = [c for c in sample.columns if c != id_column]
    wants_probabilities = _sample_holds_probabilities(sample[prediction_columns], classes, class_columns)
    if metric is None:
        metric = default_metric(problem_type, wants_probabilities or bool(class_columns))
        provenance["evaluation_metric"] = (
            f"inferred: no metric given, Kaggle's usual choice for {problem_type} with this sample submission")
    metric.check_task(problem_type)

    fmt = given("submission_format") or _infer_format(problem_type, metric, class_columns, prediction_columns,
                                                    provenance)
    if fmt not in SUBMISSION_FORMATS:
        raise InputError(f"Unknown submission_format '{fmt}'", fix=f"use one of {', '.join(SUBMISSION_FORMATS)}")
    if fmt == CLASS_PROBABILITIES and not class_columns:
        raise InputError("submission_format is class_probabilities but the sample submission has no column per class")

    drop = list(given("drop") or [])
    features, dropped = _resolve_features(train, test, id_column, target, drop, provenance)
    _check_ids_present(test, id_column, "test", data.files.get("test"))
    _check_ids_present(sample, id_column, "sample submission", data.files.get("sample_submission"))
    _check_sample_matches_test(sample, test, id_column, data.files.get("test"))
    dates = detect_dates(train, test, features)
    if dates:
        provenance["dates"] = "inferred: " + ", ".join(f"'{c}' parses as {f}" for c, f in dates.items())
    split = resolve_split(given("split"), train, test, features, dates, provenance)
    if split.group_column in features and unseen_share(split) >= UNSEEN_SHARE:
        features.remove(split.group_column)  # an entity test never holds: as a feature it only lets models memorise
        dropped.append(split.group_column)
        dates.pop(split.group_column, None)
        note = f"'{split.group_column}' is the split's entity, unseen in test: no feature"
        provenance["dropped_columns"] = "; ".join(filter(None, (provenance.get("dropped_columns"), note)))

    for name in ("id_column", "target", "task", "evaluation_metric", "submission_format"):
        provenance.setdefault(name, "inferred")
    return Competition(
        slug=slug, id_column=id_column, target=target, problem_type=problem_type, metric_name=metric.name,
        submission_format=fmt, submission_columns=tuple(sample.columns), features=tuple(features),
        classes=tuple(native(c) for c in classes), class_columns=tuple(class_columns),
        positive_class=native(positive_class), dropped_columns=tuple(dropped), dates=dates,
        relations={k: v for k, v in data.relations.items() if k in ("root", "joins")},
        split=split.to_dict(), provenance=provenance,
        metadata=dict(metadata or {}),
    )


def _infer_id_column(test: pd.DataFrame, sample: pd.DataFrame, provenance: dict[str, str]) -> str:
    shared = [c for c in sample.columns if c in test.columns]
    if not shared:
        raise InputError("The sample submission and the test file share no column, so the id column is unknown",
                         fix="set `id_column` in competition.yaml")
    provenance["id_column"] = "inferred: the column shared by sample submission and test"
    return shared[0]


def _resolve_target(given_target, id_column, train, test, sample, provenance,
                    test_file: Path | None = None) -> tuple[str, list[str]]:
    rest = [c for c in sample.columns if c != id_column]
    if not rest:
        raise InputError("The sample submission has only the id column: nothing to predict")
    if given_target is not None:
        if given_target not in train.columns:
            raise InputError(f"The target column '{given_target}' is not in train",
                             fix=f"pick one of {list(train.columns)[:20]}")
        return given_target, _class_columns_for(train[given_target], rest, given_target) or []
    in_train = [c for c in rest if c in train.columns and c not in test.columns]
    if len(in_train) == 1:
        provenance["target"] = "inferred: the sample submission's column that is in train"
        return in_train[0], []
    if len(in_train) > 1:
        raise InputError(f"The sample submission names {len(in_train)} targets {in_train}; podium learns one target",
                         fix="set `target` in competition.yaml to the one to predict")
    in_both = [c for c in rest if c in train.columns and c in test.columns]
    if in_both and not in_train:
        names = ", ".join(f"'{c}'" for c in in_both)
        raise InputError(
            f"The sample submission's column {names} is in train, but test holds it too, so it cannot be told "
            "apart from a feature (a test file has no target column)", where=str(test_file) if test_file else None,
            fix=f"drop {names} from the test file, or pass --target {in_both[0]} (`target` in competition.yaml)")
    train_only = [c for c in train.columns if c not in test.columns and c != id_column]
    for column in train_only:
        mapping = _class_columns_for(train[column], rest, column)
        if mapping:
            provenance["target"] = "inferred: its classes name the sample submission's columns"
            return column, mapping
    if len(train_only) == 1 and len(rest) == 1:
        provenance["target"] = "inferred: the only train column missing from test"
        return train_only[0], []
    raise InputError(
        f"Could not find the target: the sample submission's columns {rest} are not in train, "
        f"and train's columns missing from test are {train_only}",
        fix="set `target` in competition.yaml (or --target) to the train column to predict")


def _class_columns_for(labels: pd.Series, columns: list[str], target: str) -> list[str] | None:
    """If each sample column names one class (as `cls` or `target_cls`), return them in class order."""
    if len(columns) < 2:
        return None
    classes = {label_key(c) for c in labels.dropna().unique()}
    if len(classes) != len(columns):
        return None
    names = {}
    for column in columns:
        key = re.sub(rf"^{re.escape(target)}[_\-. ]?", "", column) if column.startswith(target) else column
        names[label_key(key)] = column
    if set(names) != classes:
        return None
    return [names[k] for k in sorted(names)]


def _infer_problem_type(labels: pd.Series, metric: Metric | None, class_columns, provenance) -> str:
    values = labels.dropna()
    count = values.nunique()
    if metric is not None and REGRESSION not in metric.tasks and not class_columns and _continuous(values):
        examples = ", ".join(f"{v:g}" for v in values.drop_duplicates().head(3))
        raise InputError(
            f"The target '{labels.name}' looks continuous ({count:,} distinct numbers such as {examples}), but "
            f"the metric '{metric.name}' scores classes",
            fix="pass a regression metric with --metric (see `podium metrics`), or set `task: multiclass` in "
                "competition.yaml if these numbers really are class labels")
    if metric is not None and metric.tasks == {REGRESSION}:
        reason, task = f"the metric {metric.name} is a regression metric", REGRESSION
    elif class_columns:
        reason, task = "the sample submission has one column per class", BINARY if count == 2 else MULTICLASS
    elif count == 2:
        reason, task = "the target has two values", BINARY
    elif not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        reason, task = f"the target holds {count} non-numeric labels", MULTICLASS
    elif _integer_valued(values) and (count <= MAX_INTEGER_CLASSES or (metric and REGRESSION not in metric.tasks)):
        reason, task = f"the target holds {count} integer codes", MULTICLASS
    else:
        reason, task = f"the target is numeric with {count} distinct values", REGRESSION
    provenance["task"] = f"inferred: {reason}"
    return task


def _continuous(values: pd.Series) -> bool:
    """Numbers that are not class codes: fractional, or so many integers that most appear only once."""
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values) or values.nunique() <= 2:
        return False
    if not _integer_valued(values):
        return True
    counts = values.value_counts()
    return len(counts) > MAX_INTEGER_CLASSES and (counts == 1).mean() > 0.5


def _integer_valued(values: pd.Series) -> bool:
    numbers = values.to_numpy(dtype=float)
    return bool(np.all(np.isfinite(numbers)) and np.all(numbers == np.round(numbers)))


def _order_classes(labels, class_columns, sample, id_column, target) -> tuple[tuple[Any, ...], list[str]]:
    unique = list(pd.unique(labels.dropna()))
    try:
        unique = sorted(unique)
    except TypeError:
        unique = sorted(unique, key=str)
    if class_columns:
        by_key = {label_key(c): c for c in unique}
        columns = [c for c in sample.columns if c != id_column]
        strip = [re.sub(rf"^{re.escape(target)}[_\-. ]?", "", c) if c.startswith(target) else c for c in columns]
        order = [by_key[label_key(s)] for s in strip]
        return tuple(order), columns
    return tuple(unique), []


def _sample_holds_probabilities(values: pd.DataFrame, classes, class_columns) -> bool:
    if class_columns:
        return True
    column = values.iloc[:, 0]
    if not pd.api.types.is_float_dtype(column):
        return False
    keys = {label_key(c) for c in classes}
    return any(label_key(v) not in keys for v in column.dropna().unique()[:50])


def _infer_format(problem_type, metric: Metric, class_columns, prediction_columns, provenance) -> str:
    if problem_type == REGRESSION:
        fmt, why = VALUES, "regression"
    elif class_columns:
        fmt, why = CLASS_PROBABILITIES, "the sample submission has one column per class"
    elif metric.needs == "proba":
        if problem_type == MULTICLASS:
            raise InputError(f"The metric {metric.name} scores class probabilities, but the sample submission has "
                             f"one column {prediction_columns} for a multiclass target",
                             fix="use a label metric (e.g. Categorization Accuracy) or a sample submission with "
                             "one column per class")
        fmt, why = PROBABILITY, f"{metric.name} scores the probability of the positive class"
    else:
        fmt, why = LABELS, f"{metric.name} scores labels"
    provenance["submission_format"] = f"inferred: {why}"
    return fmt


def _resolve_features(train, test, id_column, target, drop, provenance) -> tuple[list[str], list[str]]:
    missing_drop = [c for c in drop if c not in train.columns and c not in test.columns]
    if missing_drop:
        raise InputError(f"`drop` names columns {missing_drop} that are in neither train nor test")
    ignore = {id_column, target, *drop}
    test_only = [c for c in test.columns if c not in train.columns and c not in ignore]
    train_only = [c for c in train.columns if c not in test.columns and c not in ignore]
    if test_only:
        raise InputError(
            f"The test file has columns that train lacks: {test_only}"
            + (f" (and train has {train_only} that test lacks)" if train_only else ""),
            fix="make train and test share their feature columns, or list the extra columns under `drop` "
            "in competition.yaml")
    features = [c for c in train.columns if c not in ignore and c in test.columns]
    if not features:
        raise InputError("Train and test share no feature column besides the id and the target")
    if train_only:
        provenance["dropped_columns"] = "inferred: in train but not in test, so unusable at prediction time"
    return features, [*drop, *train_only]


def _check_ids_present(table: pd.DataFrame, id_column: str, role: str, where: Path | None = None) -> None:
    """Every row needs an id: a blank one would reach the submission, which Kaggle refuses (and so does podium)."""
    ids = table[id_column]
    blank = ids.isna().to_numpy() | ids.map(lambda value: isinstance(value, str) and not value.strip()).to_numpy()
    if blank.any():
        rows = np.flatnonzero(blank)
        lines = ", ".join(str(row + 2) for row in rows[:5]) + (" ..." if len(rows) > 5 else "")
        raise InputError(
            f"The {role} file has {len(rows):,} row(s) without an id in '{id_column}' (line {lines}, the header "
            "being line 1)", where=str(where) if where else None,
            fix="give every row its id, or remove the rows without one from both test and the sample submission")


def _check_sample_matches_test(sample: pd.DataFrame, test: pd.DataFrame, id_column: str,
                               where: Path | None = None) -> None:
    sample_ids, test_ids = sample[id_column], test[id_column]
    if len(sample_ids) != len(test_ids) or set(map(str, sample_ids)) != set(map(str, test_ids)):
        only_sample = len(set(map(str, sample_ids)) - set(map(str, test_ids)))
        only_test = len(set(map(str, test_ids)) - set(map(str, sample_ids)))
        raise InputError(
            f"The sample submission's ids do not match the test file's ({len(sample_ids)} vs {len(test_ids)} rows; "
            f"{only_sample} ids only in the sample, {only_test} only in test)",
            fix="use the sample submission and test file of the same competition release")
    repeated = test_ids[test_ids.duplicated(keep=False)]
    if len(repeated):
        examples = ", ".join(map(str, pd.unique(repeated)[:5]))
        raise InputError(
            f"The test file repeats {repeated.nunique():,} id value(s) in '{id_column}' ({len(repeated):,} rows; e.g. "
            f"{examples}): each test row needs its own id", where=str(where) if where else None,
            fix="remove the duplicate rows, or set `id_column` in competition.yaml if another column is the id")
