"""Relations are found with evidence: lookups, histories, composite keys, chains, "007" = 7; decoys are not."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from agent.competition.declaration import KEYS
from agent.competition.relations.build import Limits, relate_tables
from agent.competition.relations.discover import ROWS, relate
from agent.errors import InputError
from tests.relations.synthetic import tables


def _by_table(related):
    return {r["table"]: r for r in related.record["relations"]}


def test_lookups_histories_and_a_chain_are_found_and_a_decoy_is_left_out(tmp_path):
    t = tables()
    side = {name: t[name] for name in ("customers", "regions", "orders", "decoy")}
    related = relate_tables(t["train"], t["test"], side, None, tmp_path)
    found = _by_table(related)
    assert found["customers"]["kind"] == "lookup" and found["customers"]["on"] == [["customer_id", "customer_id"]]
    assert found["customers"]["coverage"] == {"train": 1.0, "test": 1.0}
    assert found["orders"]["kind"] == "history" and found["orders"]["time"] == "ordered_at"
    assert found["regions"]["parent"] == "customers" and found["regions"]["depth"] == 2
    assert "decoy" not in found and "left out" in related.record["unrelated"]["decoy"]
    # the chain's columns reach the rows through the lookup, prefixed twice
    assert "customers.regions.area" in related.train.columns
    expected = t["train"]["customer_id"].map(t["customers"].set_index("customer_id")["region_id"]).map(
        t["regions"].set_index("region_id")["area"])
    np.testing.assert_allclose(related.train["customers.regions.area"], expected)
    assert related.train["customers.segment"].tolist() == t["train"]["customer_id"].map(
        t["customers"].set_index("customer_id")["segment"]).tolist()
    assert {"orders.amount.mean", "orders.channel.mode", "orders.count_30d", "orders.days_since_last"} <= \
        set(related.train.columns)
    assert len(related.train) == len(t["train"]) and len(related.test) == len(t["test"])


def test_zero_padded_codes_meet_integers_as_numbers():
    rows = pd.DataFrame({"shop": [7, 12, 7, 3, 12, 40]})
    shops = pd.DataFrame({"shop": ["007", "012", "003", "040"], "size": [1.0, 2.0, 3.0, 4.0]})
    found = relate({"train": rows}, "shops", shops, ROWS)
    assert found is not None and found.mode == "number" and found.coverage == {"train": 1.0}
    assert "'007' = 7" in found.evidence


def test_a_composite_key_is_found_when_no_single_column_is_unique():
    rows = pd.DataFrame({"store": [1, 1, 2, 2, 3] * 10, "dept": [1, 2, 1, 2, 1] * 10})
    depts = pd.DataFrame({"store": [1, 1, 2, 2, 3, 3], "dept": [1, 2, 1, 2, 1, 2], "budget": range(6)})
    found = relate({"train": rows}, "depts", depts, ROWS)
    assert found.kind == "lookup" and [p for p, _ in found.on] == ["store", "dept"]


def test_numbers_alike_by_chance_are_no_evidence():
    """An age column and an unrelated table's integer ids overlap completely; the names say nothing."""
    rows = pd.DataFrame({"age": np.arange(18, 90)})
    unrelated = pd.DataFrame({"ticket": np.arange(0, 1000), "price": np.ones(1000)})
    assert relate({"train": rows}, "tickets", unrelated, ROWS) is None


def test_orphan_keys_are_measured_apart_in_train_and_test(tmp_path):
    train = pd.DataFrame({"id": range(10), "store_id": [1, 2, 3, 4, 5, 1, 2, 3, 4, 5], "y": range(10)})
    test = pd.DataFrame({"id": range(10, 14), "store_id": [1, 9, 9, 9]})
    stores = pd.DataFrame({"store_id": [1, 2, 3, 4, 5], "size": [10, 20, 30, 40, 50]})
    related = relate_tables(train, test, {"stores": stores}, {"stores": {"on": "store_id"}}, tmp_path)
    entry = _by_table(related)["stores"]
    assert entry["coverage"] == {"train": 1.0, "test": 0.25} and entry["provenance"] == "competition.yaml"
    assert related.test["stores.size"].isna().sum() == 3


def test_the_relations_section_is_a_known_key_and_bad_entries_are_refused(tmp_path):
    assert "relations" in KEYS
    t = tables()
    side = {"customers": t["customers"], "regions": t["regions"]}
    with pytest.raises(InputError, match="names the table 'shops'"):
        relate_tables(t["train"], t["test"], side, {"shops": {"on": "shop"}}, tmp_path)
    with pytest.raises(InputError, match="key column 'cust' is not a column of train"):
        relate_tables(t["train"], t["test"], side, {"customers": {"on": {"cust": "customer_id"}}}, tmp_path)
    with pytest.raises(InputError, match="Unknown key 'kin'"):
        relate_tables(t["train"], t["test"], side, {"customers": {"on": "customer_id", "kin": "lookup"}}, tmp_path)
    with pytest.raises(InputError, match=r"The relations loop: customers -> regions -> customers"):
        relate_tables(t["train"], t["test"], side, {"customers": {"on": "region_id", "parent": "regions"},
                                                    "regions": {"on": "region_id", "parent": "customers"}}, tmp_path)


def test_a_table_left_out_by_the_section_is_reported_and_not_joined(tmp_path):
    t = tables()
    related = relate_tables(t["train"], t["test"], {"customers": t["customers"]}, {"customers": False}, tmp_path)
    assert related.joins == [] and "competition.yaml" in related.record["unrelated"]["customers"]
    assert list(related.train.columns) == list(t["train"].columns)


def test_a_key_column_mixing_numbers_and_text_still_matches_and_is_reported(tmp_path):
    train = pd.DataFrame({"id": range(6), "item": ["1", "2", "3", "1", "2", "3"], "y": range(6)})
    test = pd.DataFrame({"id": range(6, 8), "item": ["1", "3"]})
    items = pd.DataFrame({"item": pd.Series([1, "2", 3.0], dtype=object), "weight": [1.5, 2.5, 3.5]})
    related = relate_tables(train, test, {"items": items}, None, tmp_path)
    entry = _by_table(related)["items"]
    assert entry["status"] == "joined" and any("mixes" in note for note in entry["notes"])
    assert related.train["items.weight"].tolist() == [1.5, 2.5, 3.5, 1.5, 2.5, 3.5]


def test_a_50000_column_side_table_is_bounded_and_reported(tmp_path):
    train = pd.DataFrame({"id": range(20), "item_id": list(range(10)) * 2, "y": range(20)})
    test = pd.DataFrame({"id": range(20, 25), "item_id": [1, 2, 3, 4, 5]})
    wide = pd.DataFrame(np.zeros((10, 50_000), dtype=np.float32), columns=[f"f{i}" for i in range(50_000)])
    wide.insert(0, "item_id", range(10))
    related = relate_tables(train, test, {"items": wide}, None, tmp_path,
                            limits=replace(Limits.of(), max_columns=300))
    entry = _by_table(related)["items"]
    assert entry["status"] == "joined" and len(entry["columns"]) == 80  # one relation's cap
    assert any("cap on generated columns" in note for note in entry["columns_left_out"])
    assert related.train.shape[1] == train.shape[1] + 80


@pytest.mark.parametrize(("max_columns", "max_table_columns", "joined"), [(300, 12, 12), (5, 80, 5)])
def test_the_side_table_settings_bound_the_columns(tmp_path, max_columns, max_table_columns, joined):
    """`side_tables: max_columns / max_table_columns` (configs/default.yaml) are what binds, whichever is lower."""
    from agent.config import Settings

    train = pd.DataFrame({"id": range(20), "item_id": list(range(10)) * 2, "y": range(20)})
    test = pd.DataFrame({"id": range(20, 25), "item_id": [1, 2, 3, 4, 5]})
    wide = pd.DataFrame(np.arange(10 * 40, dtype=float).reshape(10, 40), columns=[f"f{i}" for i in range(40)])
    wide.insert(0, "item_id", range(10))
    settings = Settings.model_validate({"side_tables": {"max_columns": max_columns,
                                                        "max_table_columns": max_table_columns}})
    related = relate_tables(train, test, {"items": wide}, None, tmp_path,
                            limits=Limits.of(settings.side_tables))
    assert related.train.shape[1] == train.shape[1] + joined
    assert related.record["max_columns"] == max_columns and related.record["max_table_columns"] == max_table_columns


def test_tables_not_examined_by_the_deadline_are_reported(tmp_path):
    from agent.deadline import Deadline

    t = tables()
    related = relate_tables(t["train"], t["test"], {"customers": t["customers"]}, None, tmp_path,
                            deadline=Deadline.after(-1.0))
    assert related.joins == [] and "deadline" in related.record["unrelated"]["customers"]
    assert list(related.train.columns) == list(t["train"].columns)


def test_a_query_still_running_at_the_deadline_is_interrupted():
    import time

    import duckdb

    from agent.competition.relations.build import _bounded, _Interrupted
    from agent.deadline import Deadline

    started = time.monotonic()
    with duckdb.connect() as con, pytest.raises(_Interrupted):
        _bounded(con, "SELECT sum(i * i) FROM range(100000000000) t(i)", Deadline.after(0.3))
    assert time.monotonic() - started < 5


def test_a_history_counts_zero_for_a_key_without_events_and_a_lookup_keeps_missing(tmp_path):
    train = pd.DataFrame({"id": range(4), "shop_id": [1, 2, 3, 1], "y": [0, 1, 0, 1]})
    test = pd.DataFrame({"id": [9], "shop_id": [2]})
    shops = pd.DataFrame({"shop_id": [1, 2], "count": [5.0, 6.0]})  # a lookup column named count
    visits = pd.DataFrame({"shop_id": [1, 1, 2], "spent": [1.0, 2.0, 3.0]})
    related = relate_tables(train, test, {"shops": shops, "visits": visits}, None, tmp_path)
    assert related.train["visits.count"].tolist() == [2, 1, 0, 2]
    assert related.train["shops.count"].isna().tolist() == [False, False, True, False]
