"""Build a competition folder from a labelled table: shuffle, split, sample submission, hidden answers.

Layout (one folder per competition):
    competition.yaml        title, evaluation_metric (Kaggle's name), deadline, max_daily_submissions, ...
    public/                 train.csv, test.csv, sample_submission.csv: what participants download
    private/answers.csv     id, target and Usage (Public / Private): never served
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from agent.atomic import staged_directory, write_text
from agent.competition.dates import date_format
from agent.competition.metrics import BINARY, MULTICLASS, REGRESSION, get_metric
from agent.competition.split import GROUP, RANDOM, TIME, Split, parse_split, time_values
from agent.errors import InputError
from agent.names import safe_component

DEFAULT_RULES = "Be kind. One account per person. No hand labelling of the test set."


def prepare_competition(
    labelled: pd.DataFrame,
    target: str,
    metric: str,
    out: Path,
    *,
    id_column: str | None = None,
    task: str | None = None,
    title: str | None = None,
    test_fraction: float = 0.25,
    public_fraction: float = 0.5,
    seed: int = 0,
    max_daily_submissions: int = 5,
    deadline: dt.datetime | None = None,
    rules: str = DEFAULT_RULES,
    overwrite: bool = False,
    split: str = "random",
    tables: dict[str, pd.DataFrame] | None = None,
) -> Path:
    """Write a competition folder at `out`; the whole folder appears at once or not at all.

    `split` says how the test rows are drawn: `random`, `time:COLUMN` (the latest rows by a date or ordered
    numbers, as a forecast is scored) or `group:COLUMN` (every row of entities drawn at random, as new
    customers are). The public and private parts of the test rows are always drawn at random. `tables`: side
    tables shipped beside train and test, as public/<name>.csv (docs/several-tables.md)."""
    out = Path(out)
    safe_component(out.name, "competition slug (the last folder of --out)", str(out))
    if target not in labelled.columns:
        raise InputError(f"The target column '{target}' is not in the table",
                         fix=f"pick one of {list(labelled.columns)}")
    if not 0 < test_fraction < 1 or not 0 < public_fraction < 1:
        raise InputError("test_fraction and public_fraction must lie strictly between 0 and 1")
    if out.exists() and not overwrite:
        raise InputError("The competition folder already exists", where=str(out), fix="pick another --out or remove it")
    scorer = get_metric(metric)
    frame = labelled.dropna(subset=[target]).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    if id_column is None:
        id_column = "id"
        if id_column in frame.columns:
            raise InputError("The table has a column named 'id' that is not declared as the id",
                             fix="pass --id-column id, or rename the column")
        frame.insert(0, id_column, np.arange(len(frame)))
    elif frame[id_column].duplicated().any():
        raise InputError(f"The id column '{id_column}' repeats values")
    task = task or _task_of(frame[target], scorer)
    scorer.check_task(task)

    n_test = max(1, int(round(len(frame) * test_fraction)))
    held = held_out_rows(frame, parse_split(split, where="split"), n_test, seed)
    test, train = frame[held], frame[~held]
    if task != REGRESSION and train[target].nunique() < 2:
        raise InputError("The training split has a single class; use a larger table or test_fraction")
    rng = np.random.default_rng(seed + 1)
    usage = np.where(rng.random(len(test)) < public_fraction, "Public", "Private")
    answers = pd.DataFrame({id_column: test[id_column].to_numpy(), target: test[target].to_numpy(), "Usage": usage})
    sample = _sample_submission(test[id_column], train[target], target, task, scorer)

    declared: dict[str, Any] = {
        "slug": out.name,
        "title": title or out.name.replace("-", " ").replace("_", " ").title(),
        "evaluation_metric": scorer.name,
        "deadline": (deadline or dt.datetime.now(dt.UTC) + dt.timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "max_daily_submissions": max_daily_submissions,
        "public_fraction": public_fraction,
        "category": "Playground",
        "reward": "Knowledge",
        "rules": rules,
        # For the grader only: participants (and podium's inference) never see this section.
        "grading": {"id_column": id_column, "target": target, "task": task},
    }
    with staged_directory(out) as staging:
        (staging / "public").mkdir()
        (staging / "private").mkdir()
        train.to_csv(staging / "public" / "train.csv", index=False)
        test.drop(columns=[target]).to_csv(staging / "public" / "test.csv", index=False)
        sample.to_csv(staging / "public" / "sample_submission.csv", index=False)
        for name, table in (tables or {}).items():
            safe_component(name, f"side table name '{name}'", str(out))
            if name.lower() in ("train", "test", "sample_submission"):
                raise InputError(f"A side table cannot be named '{name}'", fix="name it after what it holds")
            table.to_csv(staging / "public" / f"{name}.csv", index=False)
        answers.to_csv(staging / "private" / "answers.csv", index=False)
        write_text(staging / "competition.yaml", yaml.safe_dump(declared, sort_keys=False))
    return out


def held_out_rows(frame: pd.DataFrame, split: Split, n_test: int, seed: int) -> np.ndarray:
    """Which rows are the test set: the first `n_test` of the shuffled rows, the latest by time, or whole
    entities drawn at random until `n_test` rows are held."""
    if split.kind == RANDOM:
        return np.arange(len(frame)) < n_test
    for column in filter(None, (split.column, split.time)):
        if column not in frame.columns:
            raise InputError(f"The split column '{column}' is not in the table",
                             fix=f"pick one of {list(frame.columns)}")
    if split.kind == TIME:
        dates = {split.column: fmt} if (fmt := date_format(frame[split.column])) else {}
        moments = time_values(frame, split.column, dates).fillna(-np.inf).to_numpy()
        return np.isin(np.arange(len(frame)), np.argsort(moments, kind="stable")[-n_test:])
    if split.kind == GROUP:
        groups = frame[split.column].astype(str).to_numpy()
        order = np.random.default_rng(seed).permutation(np.unique(groups))
        sizes = pd.Series(groups).value_counts()[order].cumsum().to_numpy()
        return np.isin(groups, order[: int(np.searchsorted(sizes, n_test)) + 1])
    raise InputError(f"podium arena prepare draws random, time or group test sets, not {split.kind}",
                     fix="use random, time:COLUMN or group:COLUMN")


def _task_of(labels: pd.Series, scorer) -> str:
    if scorer.tasks == {REGRESSION}:
        return REGRESSION
    return BINARY if labels.nunique() == 2 else MULTICLASS


def _sample_submission(ids: pd.Series, labels: pd.Series, target: str, task: str, scorer) -> pd.DataFrame:
    sample = pd.DataFrame({ids.name: ids.to_numpy()})
    if task == REGRESSION:
        sample[target] = float(labels.mean())
    elif scorer.needs == "proba" and task == MULTICLASS:
        classes = sorted(labels.unique(), key=str)
        for cls in classes:
            sample[f"{target}_{cls}"] = 1.0 / len(classes)
    elif scorer.needs == "proba":
        sample[target] = 0.5
    else:
        sample[target] = labels.mode().iloc[0]
    return sample
