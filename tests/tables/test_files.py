"""Parquet read and written with its types, within the same bounds as CSV; where a table lives, parsed."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from agent.config import Limits
from agent.errors import InputError
from agent.tables import parse_location, read, read_table, redact, write_table
from agent.tables.decompress import TooLarge
from agent.tables.secrets import scrub


def typed_frame(n: int = 50) -> pd.DataFrame:
    return pd.DataFrame({
        "id": range(n),
        "count": pd.array([None if i % 7 == 0 else i for i in range(n)], dtype="Int64"),
        "colour": pd.Categorical(["red", "green", "blue", "red", "red"] * (n // 5)),
        "when": pd.date_range("2024-01-01", periods=n, freq="D"),
        "flag": [i % 2 == 0 for i in range(n)],
        "x": [i / 3 for i in range(n)],
    })


def test_parquet_keeps_dates_categories_and_nullable_integers(tmp_path):
    path = tmp_path / "train.parquet"
    typed_frame().to_parquet(path, index=False)
    frame = read_table(path, "train")
    assert str(frame["count"].dtype) == "Int64" and frame["count"].isna().sum() == 8
    assert isinstance(frame["colour"].dtype, pd.CategoricalDtype)
    assert pd.api.types.is_datetime64_any_dtype(frame["when"])
    assert frame["flag"].dtype == bool and frame["id"].dtype == "int64"
    pd.testing.assert_frame_equal(frame.astype({"when": "datetime64[ns]"}), typed_frame(), check_categorical=False)


def test_a_parquet_file_is_known_by_its_bytes_whatever_its_name(tmp_path):
    path = tmp_path / "train.data"
    typed_frame().to_parquet(path, index=False)
    result = read(path, "train")
    assert result.record["format"] == "parquet" and result.record["rows"] == 50


def test_declared_size_over_the_limit_is_refused_before_decoding(tmp_path):
    path = tmp_path / "big.parquet"
    pd.DataFrame({"a": range(200_000), "b": [float(i) for i in range(200_000)]}).to_parquet(path, index=False)
    with pytest.raises(TooLarge, match="metadata declares"):
        read_table(path, "train", Limits(max_bytes=1_000_000, max_ratio=1000, ratio_floor_bytes=0))


def test_metadata_that_understates_the_decoded_size_is_caught_while_decoding(tmp_path):
    """A dictionary-encoded column declares a few bytes and decodes to many: the decoded batches are counted."""
    path = tmp_path / "sly.parquet"
    pq.write_table(pa.table({"id": range(400_000), "text": ["x" * 200] * 400_000}), path)
    declared = sum(pq.ParquetFile(path).metadata.row_group(i).total_byte_size
                   for i in range(pq.ParquetFile(path).metadata.num_row_groups))
    limits = Limits(max_bytes=20_000_000, max_ratio=10**6, ratio_floor_bytes=0)
    assert declared < limits.max_bytes  # the metadata alone would let it through
    with pytest.raises(TooLarge, match="decodes to more"):
        read_table(path, "train", limits)


@pytest.mark.parametrize("content", [b"PAR1" + b"\0" * 100 + b"PAR1", b"PAR1 not parquet at all"])
def test_a_corrupt_parquet_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "train.parquet"
    path.write_bytes(content)
    with pytest.raises(InputError, match="not a readable Parquet file") as caught:
        read_table(path, "train")
    assert caught.value.where == str(path)


def test_a_truncated_parquet_file_is_a_clear_error(tmp_path):
    path = tmp_path / "train.parquet"
    typed_frame(5000).to_parquet(path, index=False)
    data = path.read_bytes()
    path.write_bytes(data[:200] + data[len(data) // 2:])  # footer intact, pages mangled
    with pytest.raises(InputError, match="Parquet file"):
        read_table(path, "train")


def test_parquet_column_names_are_checked(tmp_path):
    path = tmp_path / "train.parquet"
    pq.write_table(pa.table([pa.array([1, 2]), pa.array([3, 4]), pa.array([5, 6])], names=["a", "b", "a"]), path)
    with pytest.raises(InputError, match=r"repeats column names \['a'\]"):
        read_table(path, "train")
    pq.write_table(pa.table([pa.array([1, 2]), pa.array([3, 4])], names=["a", ""]), path)
    with pytest.raises(InputError, match="column without a name"):
        read_table(path, "train")


def test_predictions_written_as_parquet_keep_their_types(tmp_path):
    frame = typed_frame()
    written = write_table(frame, tmp_path / "out" / "preds.parquet")
    assert written == str(tmp_path / "out" / "preds.parquet")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["preds.parquet"]  # no temporary file left
    pd.testing.assert_frame_equal(pd.read_parquet(written), frame)


@pytest.mark.parametrize(("given", "shown", "sql"), [
    ("postgresql://ana:pw@db:5432/shop#orders", "postgresql://ana@db:5432/shop#orders", 'SELECT * FROM "orders"'),
    ("postgresql+psycopg://ana@db/shop#sales.orders", "postgresql+psycopg://ana@db/shop#sales.orders",
     'SELECT * FROM "sales"."orders"'),
    ("postgres://db/shop#SELECT a, b FROM t WHERE a > 1;", "postgres://db/shop#SELECT a, b FROM t WHERE a > 1;",
     "SELECT a, b FROM t WHERE a > 1"),
    ("postgresql://db/shop#SELECT a FROM t WHERE b LIKE '%20%' # a comment",
     "postgresql://db/shop#SELECT a FROM t WHERE b LIKE '%20%' # a comment",
     "SELECT a FROM t WHERE b LIKE '%20%' # a comment"),
])
def test_urls_name_a_table_or_a_query(given, shown, sql):
    location = parse_location(given)
    assert (location.shown, location.sql, location.database.kind) == (shown, sql, "postgresql")


@pytest.mark.parametrize(("given", "message"), [
    ("mysql://ana:pw@db/shop#orders", "scheme 'mysql'"),
    ("postgresql://ana:pw@db/shop", "names no table or query"),
    ("postgresql://ana:pw@db/shop#DROP TABLE orders", "neither a table name nor a query"),
    ("sqlite:///no/such/file.db#orders", "does not exist"),
])
def test_bad_urls_are_refused_without_showing_the_password(given, message):
    with pytest.raises(InputError, match=message) as caught:
        parse_location(given)
    assert "pw" not in caught.value.message.replace("podium", "")


def test_redaction_removes_every_password():
    assert redact("postgresql://ana:s3cr3t@db/shop and duckdb:///x.db") == "postgresql://ana@db/shop and duckdb:///x.db"
    assert redact("host=db password='a b' user=ana") == "host=db password=*** user=ana"
    assert scrub("failed for ana with s3cr%40t and s3cr@t", "postgresql://ana:s3cr%40t@db/shop") == \
        "failed for ana with *** and ***"
