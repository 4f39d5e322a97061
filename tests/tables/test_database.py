"""Tables read from and written to a real PostgreSQL server (tests/postgres.py), a DuckDB file and a SQLite file."""

from __future__ import annotations

import sqlite3
import time

import pandas as pd
import pytest

from agent.config import Settings, load_settings
from agent.deadline import Deadline
from agent.errors import InputError
from agent.tables import read, read_table, write_table
from agent.tables.decompress import TooLarge
from tests.postgres import PASSWORD


@pytest.fixture(scope="module")
def typed(postgres):
    postgres.sql("DROP TABLE IF EXISTS typed",
                 "CREATE TABLE typed (id bigint, small int, price numeric(8,2), name text, seen timestamp, "
                 "day date, ok boolean, score double precision)",
                 "INSERT INTO typed SELECT g, CASE WHEN g % 5 = 0 THEN NULL ELSE g END, g * 1.25, 'n' || (g % 3), "
                 "TIMESTAMP '2024-01-01 10:00' + g * INTERVAL '1 hour', DATE '2024-01-01' + g, g % 2 = 0, g / 7.0 "
                 "FROM generate_series(1, 300) AS g")
    return postgres


def small(**database) -> Settings:
    return load_settings(("test", {"database": database}))


def test_column_types_come_from_postgresql(typed):
    result = read(typed.url + "#typed", "train")
    frame = result.frame
    assert frame["id"].dtype == "int64"                     # bigint stays an integer
    assert str(frame["small"].dtype) == "Int32" and frame["small"].isna().sum() == 60  # with NULLs too
    assert frame["price"].dtype == "float64" and frame["price"].iloc[3] == 5.0
    assert pd.api.types.is_datetime64_any_dtype(frame["seen"]) and pd.api.types.is_datetime64_any_dtype(frame["day"])
    assert frame["ok"].dtype == bool and frame["name"].iloc[0] == "n1"
    assert result.record["rows"] == 300 and result.record["query"].startswith('SELECT * FROM (SELECT * FROM "typed")')
    assert PASSWORD not in str(result.record)


def test_a_query_reads_what_it_selects(typed):
    result = read(typed.url + "#SELECT id, score FROM typed WHERE id <= 10", "test")
    assert list(result.frame.columns) == ["id", "score"] and len(result.frame) == 10
    assert "WHERE id <= 10" in result.record["query"]


def test_over_max_rows_a_sample_is_reported_where_it_serves_and_refused_where_not(typed):
    settings = small(max_rows=100, batch_rows=100)
    result = read(typed.url + "#typed", "train", settings=settings, sample=True)
    assert len(result.frame) == 100 and result.record["sampled"] is True
    assert "more than 100 rows" in result.record["note"]
    with pytest.raises(InputError, match="more than 100 rows.*every row of it is needed"):
        read(typed.url + "#typed", "test", settings=settings)


def test_ten_million_rows_are_a_bounded_sample_in_seconds(typed):
    started = time.monotonic()
    result = read(typed.url + "#SELECT g AS id, g % 7 AS x FROM generate_series(1, 10000000) AS g", "train",
                  settings=small(max_rows=50_000, batch_rows=10_000), sample=True, deadline=Deadline.after(30))
    assert len(result.frame) == 50_000 and result.record["sampled"]
    assert time.monotonic() - started < 10


def test_the_byte_limit_holds_for_a_query(typed):
    from agent.config import Limits

    with pytest.raises(TooLarge, match="more than 1,000,000 bytes once decoded"):
        read(typed.url + "#SELECT g AS id, repeat('x', 100) AS t FROM generate_series(1, 100000) AS g", "train",
             Limits(max_bytes=1_000_000, max_ratio=10), settings=small(batch_rows=1000))


def test_a_slow_query_stops_at_its_deadline(typed):
    started = time.monotonic()
    with pytest.raises(InputError, match="did not finish in time"):
        read(typed.url + "#SELECT pg_sleep(20) AS a, 1 AS b", "train", deadline=Deadline.after(1.5))
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(("suffix", "message"), [
    ("#no_such_table", 'query failed.*relation "no_such_table" does not exist'),
    ("#SELECT * FROM typed WHERE id < 0", "returned no rows"),
    ("#SELECT a.id, b.id FROM typed a JOIN typed b USING (id)", r"repeats column names \['id'\]"),
    ("#SELECT 1/0 AS a, 2 AS b", "query failed.*division by zero"),
])
def test_a_failing_query_is_a_clear_error(typed, suffix, message):
    with pytest.raises(InputError, match=message):
        read(typed.url + suffix, "train")


def test_a_query_never_writes(typed):
    """Reads run in a read-only transaction: a query calling a function that writes is refused by the server."""
    typed.sql("CREATE SEQUENCE IF NOT EXISTS counter")
    with pytest.raises(InputError, match="read-only transaction"):
        read(typed.url + "#SELECT nextval('counter') AS n, 1 AS b", "train")
    assert typed.sql("SELECT last_value, is_called FROM counter").strip() == "1|f"


def test_a_wrong_password_and_an_unreachable_server_are_clear_and_never_show_the_password(typed):
    wrong = typed.url.replace(PASSWORD, "Wr0ng-Secret")
    with pytest.raises(InputError, match="refused the credentials") as caught:
        read(wrong + "#typed", "train")
    assert "Wr0ng-Secret" not in caught.value.message and "Wr0ng-Secret" not in str(caught.value.where)
    started = time.monotonic()
    with pytest.raises(InputError, match="cannot be reached") as caught:
        read(f"postgresql://podium:Wr0ng-Secret@127.0.0.1:{_closed_port()}/shop#typed", "train")
    assert "Wr0ng-Secret" not in caught.value.message and time.monotonic() - started < 15


def test_credentials_come_from_pgpassword_and_a_pgpass_file(typed, tmp_path, monkeypatch):
    url = typed.url_without_password + "#typed"
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "absent"))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    with pytest.raises(InputError, match="refused the credentials"):
        read(url, "train")
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    assert len(read_table(url, "train")) == 300
    monkeypatch.delenv("PGPASSWORD")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{typed.port}:shop:podium:{PASSWORD}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    assert len(read_table(url, "train")) == 300


def test_predictions_replace_a_table_in_one_transaction(typed):
    target = typed.url + "#predictions"
    write_table(pd.DataFrame({"id": [1, 2, 3], "p": [0.1, 0.2, 0.3]}), target)
    assert typed.sql("SELECT count(*), sum(p) FROM predictions").strip() == "3|0.6000000000000001"
    # text with a NUL byte fails inside PostgreSQL's COPY, after the old table was dropped: all rolled back
    with pytest.raises(InputError, match="nothing was written"):
        write_table(pd.DataFrame({"id": [9] * 1000, "p": ["ok"] * 999 + ["bad\x00"]}), target)
    assert typed.sql("SELECT count(*) FROM predictions").strip() == "3"
    write_table(pd.DataFrame({"id": [7], "label": ["yes"]}), target)
    assert typed.sql("SELECT * FROM predictions").strip() == "7|yes"


def test_a_query_cannot_be_written_to(typed):
    with pytest.raises(InputError, match="cannot be written to"):
        write_table(pd.DataFrame({"a": [1]}), typed.url + "#SELECT 1")


def test_duckdb_and_sqlite_files(tmp_path):
    import duckdb

    path = tmp_path / "shop.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE TABLE t AS SELECT range AS id, CASE WHEN range % 3 = 0 THEN NULL ELSE range END "
                           "AS n, DATE '2024-01-01' + range::INT AS day FROM range(50)")
    frame = read_table(f"duckdb:///{path}#t", "train")
    assert str(frame["n"].dtype) == "Int64" and pd.api.types.is_datetime64_any_dtype(frame["day"])
    write_table(frame.head(5), f"duckdb:///{path}#copy")
    assert len(read_table(f"duckdb:///{path}#SELECT * FROM copy", "copy")) == 5

    lite = tmp_path / "shop.db"
    with sqlite3.connect(lite) as connection:
        connection.execute("CREATE TABLE t (id INTEGER, x REAL, day DATE, c TEXT)")
        connection.executemany("INSERT INTO t VALUES (?, ?, ?, ?)",
                               [(i, None if i < 150 else i / 2, f"2024-02-{1 + i % 28:02d}", "a") for i in range(300)])
    frame = read(f"sqlite:///{lite}#t", "train", settings=small(batch_rows=100)).frame  # types differ by batch
    assert frame["x"].dtype == "float64" and frame["x"].isna().sum() == 150
    assert pd.api.types.is_datetime64_any_dtype(frame["day"]) and frame["id"].dtype == "int64"
    write_table(frame.head(3)[["id", "c"]], f"sqlite:///{lite}#copy")
    assert read_table(f"sqlite:///{lite}#copy", "copy")["c"].tolist() == ["a", "a", "a"]


def test_embedded_databases_stop_at_their_deadline(tmp_path):
    import duckdb

    path = tmp_path / "slow.duckdb"
    duckdb.connect(str(path)).close()
    lite = tmp_path / "slow.db"
    sqlite3.connect(lite).close()
    for url in (f"duckdb:///{path}#SELECT a.range AS a, b.range AS b FROM range(200000) a, range(200000) b "
                "ORDER BY a DESC",
                f"sqlite:///{lite}#WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                "SELECT x, x AS y FROM c ORDER BY x DESC"):
        started = time.monotonic()
        with pytest.raises(InputError, match="did not finish in time"):
            read(url, "train", deadline=Deadline.after(1))
        assert time.monotonic() - started < 5


def _closed_port() -> int:
    from tests.postgres import free_port

    return free_port()
