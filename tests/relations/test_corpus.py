"""The development corpus' relational competitions: their folders ship side tables, and podium relates them as
intended (lookups only for the rodents; a composite-key lookup and a timed history for the drag race; a lookup
and a log of earlier ratings for the movies)."""

from __future__ import annotations

import pandas as pd

from agent.arena.demo import build_from_corpus
from agent.competition.relations.build import join_relations
from agent.competition.tables import read_competition
from agent.sources.local import LocalSource


def _related(folder, tmp_path):
    fetched = LocalSource(folder).fetch()
    data = read_competition(fetched.files["train"], fetched.files["test"], fetched.files["sample_submission"],
                            tables=fetched.tables, found=fetched.found)
    data = join_relations(data, fetched.relations, tmp_path / "relations")
    return {r["table"]: r for r in data.relations["record"]["relations"]}, data


def test_the_rodent_weights_join_two_lookups(tmp_path):
    folder = build_from_corpus("rodent_weight", tmp_path / "rodent-weight", rows=800)
    assert {"species.csv", "plots.csv"} <= {p.name for p in (folder / "public").iterdir()}
    found, data = _related(folder, tmp_path)
    assert {name: r["kind"] for name, r in found.items()} == {"species": "lookup", "plots": "lookup"}
    assert "plots.plot_type" in data.train.columns and data.train["plots.plot_type"].notna().all()


def test_the_drag_race_joins_queens_on_two_columns_and_a_timed_history(tmp_path):
    folder = build_from_corpus("drag_elimination", tmp_path / "drag-elimination", rows=800)
    found, data = _related(folder, tmp_path)
    assert found["queens"]["kind"] == "lookup" and [p for p, _ in found["queens"]["on"]] == ["season", "contestant"]
    assert found["results"]["kind"] == "history" and found["results"]["time"] == "aired"
    assert found["results"]["point_in_time"] == "only results events strictly before the row's date"
    first_episodes = data.train[data.train["episode"] == 1]
    assert (first_episodes["results.count"] == 0).all()  # a season's first episode has no earlier result


def test_the_movie_ratings_join_the_movies_and_the_earlier_ratings_of_each_movie(tmp_path):
    folder = build_from_corpus("movie_ratings", tmp_path / "movie-ratings", rows=3000)
    found, data = _related(folder, tmp_path)
    assert found["movies"]["kind"] == "lookup" and "movies.genres" in data.train.columns
    assert found["ratings"]["kind"] == "history" and found["ratings"]["time"] == "rated"
    assert [p for p, _ in found["ratings"]["on"]] == ["movieId"]  # users rate in bursts: the movies recur
    log = pd.read_csv(folder / "public" / "ratings.csv").groupby("movieId")["rating"].mean()
    rated = data.train[data.train["ratings.count"] > 0]
    assert len(rated) > len(data.train) / 2  # the log holds none of the rows, but most of their movies
    expected = log.reindex(rated["movieId"].astype(int)).to_numpy()
    assert abs(rated["ratings.rating.mean"].to_numpy() - expected).max() < 1e-9  # every rating is earlier
