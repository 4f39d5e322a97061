"""A competition's tables, read wherever they live (agent/tables: files or a database), with what was read.

A competition without a sample submission (a database rarely holds one) gets the one Kaggle would ship: the
test ids and the target, filled with the most frequent training value (`build_sample_submission`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from agent.config import Limits, Settings
from agent.deadline import Deadline
from agent.errors import InputError
from agent.tables import read
from agent.tables.location import Location

__all__ = ["CompetitionData", "build_sample_submission", "read_competition", "read_table"]
ID_NAMES = ("id", "Id", "ID")


@dataclass(frozen=True)
class CompetitionData:
    """The three tables every tabular competition ships, and any side tables (related and joined by
    agent/competition/relations, which fills `relations`)."""

    train: pd.DataFrame
    test: pd.DataFrame
    sample_submission: pd.DataFrame
    files: dict[str, Path | str] = field(default_factory=dict)  # role -> where it was read from, for errors
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # side tables by name (declared, or found beside)
    reads: dict[str, dict[str, Any]] = field(default_factory=dict)  # role -> what was read (the manifest's record)
    skipped: dict[str, str] = field(default_factory=dict)  # tables found beside train that could not be read, why
    relations: dict[str, Any] = field(default_factory=dict)  # the joins made (agent/competition/relations): root, joins


def read_table(source: Path | str | Location, role: str, limits: Limits | None = None, **options) -> pd.DataFrame:
    """A competition's table (train, labelled rows...): agent.tables' reader, refusing fewer than two columns."""
    return read(source, role, limits, min_columns=2, **options).frame


def read_competition(train: Path | str | Location, test: Path | str | Location,
                     sample_submission: Path | str | Location | None, limits: Limits | None = None, *,
                     tables: dict[str, Path | str | Location] | None = None, declared: dict[str, Any] | None = None,
                     deadline: Deadline | None = None, settings: Settings | None = None,
                     found: dict[str, Path] | None = None) -> CompetitionData:
    """Read train, test, the sample submission (built when None) and side tables; the train table may be a
    reported sample of a large database table, the test table never (a submission needs every row).

    `tables` are declared (a table that cannot be read stops the run); `found` are the other table files beside
    train (one that cannot be read is reported and left out: a folder may hold notes in CSV)."""
    options = {"settings": settings, "deadline": deadline, "min_columns": 2,
               "deadline_setting": "run.time_limit (reading gets a share of it: docs/time-plan.md)"}
    reads = {"train": read(train, "train", limits, sample=True, **options),
             "test": read(test, "test", limits, **options)}
    if sample_submission is not None:
        reads["sample_submission"] = read(sample_submission, "sample submission", limits, **options)
        sample = reads["sample_submission"].frame
    else:
        sample = build_sample_submission(reads["train"].frame, reads["test"].frame, declared or {})
    side = {name: read(place, f"table '{name}'", limits, sample=True, **{**options, "min_columns": 1})
            for name, place in (tables or {}).items()}
    skipped = {}
    for name, place in (found or {}).items():
        if name in side:
            continue
        try:
            side[name] = read(place, f"table '{name}'", limits, sample=True, **{**options, "min_columns": 1})
        except InputError as error:
            skipped[name] = f"not read as a table: {error.what}"
    records = {role: result.record for role, result in reads.items()}
    records.update({f"tables.{name}": result.record for name, result in side.items()})
    if sample_submission is None:
        records["sample_submission"] = {"role": "sample submission", "built": "the test ids and the target, as "
                                        "Kaggle ships it (no sample_submission was given)", "rows": len(sample)}
    places = {"train": train, "test": test, "sample_submission": sample_submission}
    return CompetitionData(
        train=reads["train"].frame, test=reads["test"].frame, sample_submission=sample,
        files={role: _where(place) for role, place in places.items() if place is not None},
        tables={name: result.frame for name, result in side.items()}, reads=records, skipped=skipped)


def _where(place: Path | str | Location) -> Path | str:
    if isinstance(place, Location):
        return place.path if place.is_file else place.shown
    return place


def _declared(declared: dict[str, Any], *names: str) -> Any:
    return next((declared[name] for name in names if declared.get(name) is not None), None)


def build_sample_submission(train: pd.DataFrame, test: pd.DataFrame, declared: dict[str, Any]) -> pd.DataFrame:
    """The sample submission Kaggle would ship: the test's id column and the target, holding the most frequent
    training value. The target is declared or the one train column test lacks; the id is declared or named id."""
    target = _declared(declared, "target", "label")
    if target is None:
        only_train = [c for c in train.columns if c not in test.columns]
        if len(only_train) != 1:
            raise InputError(f"No sample submission was given and the target is unknown: train has {len(only_train)} "
                             f"column(s) test lacks {only_train[:10]}", where="competition.yaml",
                             fix="declare `target:` (and `id:`) in competition.yaml, or give a sample_submission")
        target = only_train[0]
    if target not in train.columns:
        raise InputError(f"The target '{target}' is not a column of train", where="competition.yaml `target`",
                         fix=f"use one of {list(train.columns)[:20]}")
    id_column = _declared(declared, "id_column", "id") or next((c for c in ID_NAMES if c in test.columns), None)
    if id_column is None or id_column not in test.columns:
        raise InputError("No sample submission was given and the test table has no id column "
                         f"({'declared ' + repr(id_column) + ' is missing' if id_column else 'none named id'})",
                         where="competition.yaml", fix="declare `id:` (the column naming each test row) in "
                         "competition.yaml, or give a sample_submission")
    labels = train[target].dropna()
    fill = labels.mode().iloc[0] if len(labels) else 0
    return pd.DataFrame({id_column: test[id_column].to_numpy(), target: fill})

