"""What a retrain starts from: the parent run (its configuration, competition and production model) and the
new labelled rows, checked against the production model's input contract, split into training and holdout.

Everything here only reads; every problem is an InputError raised before anything is written.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agent.competition.inference import Competition
from agent.competition.split import GROUP, GROUP_TIME, TIME, Split, time_values
from agent.config import Settings, load_settings, read_yaml
from agent.errors import InputError
from agent.rundir import Run
from agent.runtime import ProductionModel, load_model
from agent.runtime.schema import Schema, file_lines, is_missing
from agent.tables import parse_location, read
from agent.tables.files import is_parquet

MIN_CLASS_ROWS = 5  # rows of every class in the new data: enough for a stratified holdout and the folds


@dataclass
class Parent:
    """The run being retrained: its directory, effective settings, competition and production model."""

    run: Run
    settings: Settings
    competition: Competition
    artifact: Path
    model: ProductionModel

    @property
    def config_file(self) -> Path:
        return self.run.file("config.yaml")


@dataclass
class Labelled:
    """Feature rows in the model's columns and types, with their encoded target."""

    X: pd.DataFrame
    y: np.ndarray
    labels: pd.Series
    notes: list[str] = field(default_factory=list)
    by: pd.DataFrame | None = None  # the columns the run's split reads (an entity, a time), row for row
    record: dict[str, Any] = field(default_factory=dict)  # where the rows came from (the new run's manifest)

    def take(self, index: np.ndarray) -> Labelled:
        by = None if self.by is None else self.by.iloc[index].reset_index(drop=True)
        return Labelled(self.X.iloc[index].reset_index(drop=True), self.y[index],
                        self.labels.iloc[index].reset_index(drop=True), list(self.notes), by, dict(self.record))


def load_parent(run_dir: str | Path) -> Parent:
    """The run's manifest, config.yaml and production/; a clear InputError for each one missing."""
    run = Run.load(Path(run_dir))
    where = str(run.path)
    if not run.manifest.get("competition"):
        raise InputError("The run never inferred its competition (it stopped early), so there is nothing to retrain",
                         where=where, fix="retrain a run that produced a production model")
    config = run.file("config.yaml")
    if not config.is_file():
        raise InputError("The run has no config.yaml, so its configuration cannot be repeated", where=where,
                         fix="retrain a run directory written by `podium run`")
    settings = load_settings(("the run's config.yaml", read_yaml(config)))
    artifact = run.file("production")
    if not (artifact / "production.json").is_file():
        reason = (run.manifest.get("production") or {}).get("error")
        raise InputError("The run has no production model to compare a retrained one with"
                         + (f" (its production phase failed: {reason})" if reason else ""), where=where,
                         fix="retrain a run whose production/ folder holds a model (docs/production.md)")
    competition = Competition.from_dict(run.manifest["competition"])
    model = load_model(artifact)
    if model.schema.relations:  # new rows are joined with the side data the model carries, as served rows are
        competition = replace(competition, relations={
            "root": str(artifact), "joins": [join.model_dump(mode="json") for join in model.schema.relations]})
    if model.schema.unseen != "other" and model.encoder is not None:
        # Scored on new data, the current model treats new categories as rare ones instead of refusing them:
        # a comparison, not serving (the copy shipped from disk keeps its policy).
        model.schema = model.schema.model_copy(update={"unseen": "other"})  # keeps where its side data lies
        model.encoder.schema = model.schema
    return Parent(run, settings, competition, artifact, model)


def read_labelled(given: str | Path, competition: Competition, schema: Schema, role: str) -> Labelled:
    """New labelled rows with the original train's columns (id optional), typed like the model's inputs: a CSV or
    Parquet file, or a database table or query (over database.max_rows: a reported sample of its first rows)."""
    location = parse_location(given if isinstance(given, str) else Path(given), role)
    result = read(location, role, min_columns=2, sample=True)
    frame, where = result.frame, location.shown
    target = competition.target
    if target not in frame.columns:
        raise InputError(f"The {role} lacks the target column '{target}'", where=where,
                         fix=f"use the original train.csv's columns: the features and '{target}' (an id is optional)")
    frame = schema.derive(frame, where=where, lines=file_lines(frame))  # dates into the parts the model reads
    schema.check_columns(frame.columns, where=where)
    labelled = frame[~frame[target].map(is_missing)]
    notes = [f"The {role} was read as a sample: {result.record['note']}"] if result.record.get("sampled") else []
    if location.is_file:
        record = {"source": "file", **file_record(location.path)}
        csv = not is_parquet(location.path)
    else:
        record, csv = {"source": "database", **{k: v for k, v in result.record.items() if k != "source"},
                       "database": result.record["source"]}, False
    if len(labelled) < len(frame):
        notes.append(f"{len(frame) - len(labelled)} row(s) of the {role} have no '{target}' value and were left out")
    schema.validate(labelled[schema.names], where=where, unseen="other", lines=file_lines(labelled) if csv else None)
    X = labelled[schema.table_names].reset_index(drop=True)  # as a run's dataset: text without its words
    # wrong types raised above; new categories are what new data brings
    try:
        y = competition.encode_target(labelled[target])
    except (InputError, ValueError) as exc:
        what = exc.what if isinstance(exc, InputError) else f"The target '{target}' holds non-numeric values ({exc})"
        raise InputError(what, where=where, fix="use the same target values as the original train.csv") from None
    split = competition.test_split
    columns = [c for c in (split.group_column, split.time_column) if c]
    for column in columns:
        if not {column, f"{column}.days"} & set(labelled.columns):
            raise InputError(f"The {role} lacks the column '{column}' the run's folds are drawn by", where=where,
                             fix=f"include '{column}' (the model was validated on a split by it)")
    by = labelled[[c for c in labelled.columns if c in columns or c in {f"{n}.days" for n in columns}]]
    return Labelled(schema.conform(X, "new data"), np.asarray(y), labelled[target].reset_index(drop=True), notes,
                    by.reset_index(drop=True) if columns else None, record)


def check_classes(data: Labelled, competition: Competition, where: str) -> None:
    """Every class of the competition with enough rows: the model must keep predicting each of them."""
    if not competition.is_classification:
        return
    counts = np.bincount(data.y, minlength=len(competition.classes))
    short = [f"{competition.classes[i]!r} ({n})" for i, n in enumerate(counts) if n < MIN_CLASS_ROWS]
    if short:
        raise InputError(f"The new data has fewer than {MIN_CLASS_ROWS} rows of class(es) {', '.join(short[:10])}",
                         where=where, fix="add labelled rows of every class the model predicts")


def split_holdout(data: Labelled, share: float, seed: int, stratify: bool, min_holdout: int,
                  where: str, split: Split | None = None, dates: dict[str, str] | None = None
                  ) -> tuple[Labelled, Labelled]:
    """The training part and the holdout both models are scored on, drawn as the run's test set was: the
    latest rows of a time split, whole entities of a grouped one, else a seeded split (stratified for classes)."""
    from sklearn.model_selection import train_test_split

    n_holdout = math.ceil(share * len(data.y))
    if n_holdout < min_holdout:
        raise InputError(f"A holdout of {share:g} x {len(data.y)} rows has {n_holdout} rows; comparing two models "
                         f"needs at least {min_holdout}", where=where,
                         fix="pass more labelled rows, a larger --holdout, or a labelled --holdout-data file")
    split = split or Split()
    if split.kind in (TIME, GROUP_TIME) and data.by is not None:
        moments = time_values(data.by, split.time_column, dates or {}).fillna(-np.inf).to_numpy()
        order = np.argsort(moments, kind="stable")
        return data.take(np.sort(order[:-n_holdout])), data.take(np.sort(order[-n_holdout:]))
    if split.kind == GROUP and data.by is not None:
        groups = data.by[split.column].astype(str).to_numpy()
        shuffled = np.random.default_rng(seed).permutation(np.unique(groups))
        sizes = pd.Series(groups).value_counts()
        held = set(shuffled[: int(np.searchsorted(sizes[shuffled].cumsum().to_numpy(), n_holdout)) + 1])
        mask = np.isin(groups, list(held))
        return data.take(np.flatnonzero(~mask)), data.take(np.flatnonzero(mask))
    train, holdout = train_test_split(np.arange(len(data.y)), test_size=n_holdout, random_state=seed,
                                      stratify=data.y if stratify else None)
    return data.take(np.sort(train)), data.take(np.sort(holdout))


def file_record(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"path": str(Path(path).resolve()), "bytes": Path(path).stat().st_size, "sha256": digest.hexdigest()}
