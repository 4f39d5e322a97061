"""agent/runtime/schema.py and encoder.py: what a production model accepts and how rows become numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from agent.errors import InputError
from agent.runtime.encoder import Encoder
from agent.runtime.schema import CATEGORICAL, NUMERIC, Schema


@pytest.fixture()
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 200
    return pd.DataFrame({
        "age": np.where(rng.random(n) < 0.1, np.nan, rng.integers(1, 80, n)).astype(float),
        "fare": rng.gamma(2.0, 10.0, n),
        "sex": rng.choice(["male", "female"], n).astype(object),
        "port": pd.Series(rng.choice(["S", "C", "Q", None, "X"], n, p=[0.6, 0.2, 0.15, 0.04, 0.01]), dtype=object),
        "deck": rng.choice([1, 2, 3], n).astype(object),   # numbers stored as categories
        "name": [f"person {i}" for i in range(n)],           # id-like
    })


def test_infer_kinds_ranges_and_categories(frame):
    schema = Schema.infer(frame)
    kinds = {c.name: c.kind for c in schema.columns}
    assert kinds == {"age": NUMERIC, "fare": NUMERIC, "sex": CATEGORICAL, "port": CATEGORICAL,
                     "deck": CATEGORICAL, "name": CATEGORICAL}
    age = schema.columns[0]
    assert age.missing_seen and age.min == frame["age"].min() and age.max == frame["age"].max()
    assert set(schema.columns[2].categories) == {"male", "female"}
    name = schema.columns[5]
    assert not name.categories_complete and name.categories == ()  # id-like: any value accepted
    assert Schema.parse(schema.dumped(), where="test") == schema


def test_validate_names_missing_column_and_wrong_type(frame):
    schema = Schema.infer(frame)
    with pytest.raises(InputError, match=r"lacks column\(s\) \['fare'\]") as missing:
        schema.validate(frame.drop(columns=["fare"]), where="new.csv")
    assert "new.csv" in missing.value.message and "schema.json" in missing.value.message
    bad = frame.astype({"age": object})
    bad.loc[7, "age"] = "old"
    with pytest.raises(InputError, match=r"'age' expects numbers.*'old' at row 7"):
        schema.validate(bad)


def test_validate_reports_unseen_and_out_of_range_and_strict_refuses(frame):
    schema = Schema.infer(frame)
    new = frame.copy()
    new.loc[0, "sex"] = "unknown"
    new.loc[1, "fare"] = 1e6
    new.loc[2, "name"] = "somebody new"  # id-like: not an unseen category
    report = schema.validate(new)
    assert report.unseen == {"sex": 1} and report.out_of_range == {"fare": 1}
    assert any("never seen" in m for m in report.messages())
    with pytest.raises(InputError, match="never seen in training"):
        schema.validate(new, unseen="error")


def test_encoder_dict_rows_match_frame_rows(frame):
    schema = Schema.infer(frame)
    encoder = Encoder.fit(frame, schema, min_count=3)
    big, _ = encoder.encode_frame(frame)
    rows, _ = encoder.encode_records(frame.to_dict("records"))
    small, _ = encoder.encode(frame.iloc[:5])
    np.testing.assert_array_equal(np.isnan(big), np.isnan(rows))
    np.testing.assert_array_equal(np.nan_to_num(big, nan=-1), np.nan_to_num(rows, nan=-1))
    np.testing.assert_array_equal(np.nan_to_num(small, nan=-1), np.nan_to_num(big[:5], nan=-1))


def test_encoder_handles_missing_round_trips_and_unseen(frame):
    schema = Schema.infer(frame)
    encoder = Encoder.fit(frame, schema, min_count=3)
    row = frame.iloc[0].to_dict()
    port, deck, sex = (schema.names.index(c) for c in ("port", "deck", "sex"))
    as_csv = {**row, "age": "", "deck": "2.0", "port": None}       # CSV-style strings and blanks
    encoded, unseen = encoder.encode(as_csv)
    assert unseen == 0 and math.isnan(encoded[0, 0]) and math.isnan(encoded[0, port])
    assert encoded[0, deck] == encoder.encode({**row, "deck": 2})[0][0, deck]  # 2, 2.0 and "2.0" meet
    encoded, unseen = encoder.encode({**row, "sex": "unknown"})
    assert unseen == 1 and encoded[0, sex] == encoder.other_code["sex"]  # like rare categories
    strict = Encoder.fit(frame, Schema.infer(frame, unseen="error"))
    with pytest.raises(InputError, match="never seen in training"):
        strict.encode({**row, "sex": "unknown"})
    with pytest.raises(InputError, match="expects a number"):
        encoder.encode({**row, "fare": "cheap"})
    with pytest.raises(InputError, match=r"lacks column\(s\) \['fare'\]"):
        encoder.encode({k: v for k, v in row.items() if k != "fare"})
    with pytest.raises(InputError, match="Cannot predict from a str"):
        encoder.encode("not rows")


def test_a_missing_code_reads_missing_categories_as_one_code_in_rows_and_tables(frame):
    """A model trained on missing values filled in (AutoGluon's '' category) reads them as that code; the other
    columns keep NaN, and the code survives encoder.json."""
    schema = Schema.infer(frame)
    fitted = Encoder.fit(frame, schema, min_count=3)
    encoder = Encoder(schema, fitted.codes, fitted.other_code, {"port": 7.0})
    port, age = schema.names.index("port"), schema.names.index("age")
    row = frame.iloc[0].to_dict()
    for missing in (None, float("nan"), "", "  "):
        encoded, _ = encoder.encode({**row, "port": missing, "age": None})
        assert encoded[0, port] == 7.0 and math.isnan(encoded[0, age])
    table, _ = encoder.encode_frame(frame)
    assert (table[frame["port"].isna().to_numpy(), port] == 7.0).all()
    np.testing.assert_array_equal(table[frame["port"].notna().to_numpy()], fitted.encode_frame(frame)[0][
        frame["port"].notna().to_numpy()])
    assert Encoder.from_dict(encoder.to_dict(), schema).encode_frame(frame)[0].tobytes() == table.tobytes()
    assert "missing_code" not in fitted.to_dict()  # an encoder without one writes what older podiums read
