"""Competitions from Parquet folders and from databases: a folder holding only competition.yaml is a whole
competition; a database URL on the command line finds its tables by name."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from agent.competition.tables import read_competition
from agent.errors import InputError
from agent.sources import DatabaseSource, LocalSource, find_tables, resolve_source
from tests.conftest import make_tables
from tests.postgres import PASSWORD


def load_competition(server, rows: int = 300) -> pd.DataFrame:
    """A small binary competition in tables train, test and stores (a side table), and the labelled rows."""
    frame = make_tables(rows, seed=3, target_values=lambda s: (s > 0.3).astype(int))
    frame["store"] = frame["id"] % 4
    frame["day"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(frame["id"] % 60, unit="D")
    values = ", ".join(f"({r.id}, {r.x1!r}, {r.x2!r}, '{r.colour}', {r.store}, DATE '{r.day.date()}', {r.target})"
                       for r in frame.itertuples())
    server.sql("DROP TABLE IF EXISTS labelled, train, test, stores",
               "CREATE TABLE labelled (id bigint, x1 double precision, x2 double precision, colour text, "
               "store int, day date, target int)",
               f"INSERT INTO labelled VALUES {values}",
               f"CREATE TABLE train AS SELECT * FROM labelled WHERE id < {1000 + rows * 2 // 3}",
               f"CREATE TABLE test AS SELECT id, x1, x2, colour, store, day FROM labelled WHERE id >= "
               f"{1000 + rows * 2 // 3}",
               "CREATE TABLE stores AS SELECT g AS store, 'Store ' || g AS name FROM generate_series(0, 3) AS g")
    return frame


@pytest.fixture(scope="module")
def shop(postgres):
    load_competition(postgres)
    return postgres


def test_a_folder_of_parquet_tables_is_a_competition(tmp_path):
    frame = make_tables(120, target_values=lambda s: (s > 0).astype(int))
    frame["colour"] = frame["colour"].astype("category")
    frame.iloc[:90].to_parquet(tmp_path / "train.parquet", index=False)
    frame.iloc[90:].drop(columns="target").to_parquet(tmp_path / "test.parquet", index=False)
    frame.iloc[90:][["id"]].assign(target=0).to_csv(tmp_path / "sample_submission.csv", index=False)
    (tmp_path / "train.csv").write_text("id,target\n1,0\n")  # Parquet wins a tie: it keeps the types
    files = find_tables(tmp_path)
    assert (files["train"].name, files["test"].name) == ("train.parquet", "test.parquet")
    fetched = LocalSource(tmp_path).fetch()
    data = read_competition(fetched.files["train"], fetched.files["test"], fetched.files["sample_submission"])
    assert isinstance(data.train["colour"].dtype, pd.CategoricalDtype) and len(data.test) == 30
    assert data.reads["train"]["format"] == "parquet"


def test_a_folder_holding_only_competition_yaml_reads_its_database(shop, tmp_path):
    (tmp_path / "competition.yaml").write_text(yaml.safe_dump({
        "database": shop.url, "train": "train", "test": "SELECT * FROM test ORDER BY id",
        "tables": {"stores": "stores"}, "target": "target", "id": "id", "metric": "AUC"}))
    source = LocalSource(tmp_path)
    fetched = source.fetch()
    assert source.slug == tmp_path.name and fetched.metadata["source"] == "database"
    assert PASSWORD not in str(fetched.shown()) and PASSWORD not in str(fetched.metadata)
    data = read_competition(fetched.files["train"], fetched.files["test"], None, tables=fetched.tables,
                            declared=fetched.declared)
    assert len(data.train) == 200 and len(data.test) == 100 and data.train["id"].dtype == "int64"
    assert pd.api.types.is_datetime64_any_dtype(data.train["day"])
    # no sample submission given: the one Kaggle ships, the test ids and the target
    assert list(data.sample_submission.columns) == ["id", "target"]
    assert data.sample_submission["id"].tolist() == data.test["id"].tolist()
    assert set(data.tables) == {"stores"} and len(data.tables["stores"]) == 4
    assert data.reads["test"]["query"].startswith("SELECT * FROM (SELECT * FROM test ORDER BY id)")
    assert data.reads["tables.stores"]["rows"] == 4 and "built" in data.reads["sample_submission"]
    assert PASSWORD not in str(data.reads)


def test_a_database_url_finds_train_and_test_by_name(shop):
    source = resolve_source(shop.url)
    assert isinstance(source, DatabaseSource) and source.slug == "shop"
    fetched = source.fetch()
    assert {role: place.what for role, place in fetched.files.items()} == {"train": "train", "test": "test"}
    named = resolve_source(shop.url, tables={"train": "SELECT * FROM train WHERE id < 1100", "test": "test"}).fetch()
    assert named.files["train"].is_query


def test_a_database_without_the_tables_names_what_it_holds(shop):
    shop.sql("ALTER TABLE train RENAME TO rows_2025")
    try:
        with pytest.raises(InputError, match=r"The database has no train table \(its tables: ") as caught:
            DatabaseSource(shop.url).fetch()
    finally:
        shop.sql("ALTER TABLE rows_2025 RENAME TO train")
    listed = caught.value.what.split("its tables: ")[1]
    assert {"labelled", "rows_2025", "stores", "test"} <= set(listed.rstrip(")").split(", "))
    assert PASSWORD not in caught.value.message


def test_table_options_need_a_database_source(tmp_path):
    with pytest.raises(InputError, match="--train name tables of a database source"):
        resolve_source(str(tmp_path), tables={"train": "train"})


def test_train_and_test_columns_that_differ_are_a_clear_error(shop, tmp_path):
    from agent.competition.inference import infer_competition

    source = DatabaseSource(shop.url, {"train": "train", "test": "SELECT id, x1, x2, colour, store, day, "
                                       "x1 * 2 AS extra FROM test"}, declared={"target": "target"})
    fetched = source.fetch()
    data = read_competition(fetched.files["train"], fetched.files["test"], None, declared=fetched.declared)
    with pytest.raises(InputError, match=r"test file has columns that train lacks: \['extra'\]"):
        infer_competition("shop", data, {"target": "target"})


def test_a_resumed_run_reconnects_with_the_recorded_tables_and_libpq_password(shop, monkeypatch):
    """The manifest keeps the URL without its password and the --train/--test given: --resume rebuilds the
    source from them, and libpq finds the password (PGPASSWORD or ~/.pgpass) as psql would."""
    from agent.run.pipeline import RunOptions, _source
    from agent.tables import redact

    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    recorded = redact(shop.url)
    assert PASSWORD not in recorded
    fetched = _source(recorded, RunOptions(), None, {"train": "train", "test": "SELECT * FROM test"}).fetch()
    data = read_competition(fetched.files["train"], fetched.files["test"], None, declared={"target": "target"})
    assert len(data.test) == 100 and fetched.files["test"].is_query
