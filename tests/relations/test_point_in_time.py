"""A row's history holds only events strictly before its own time; served rows get the values the run had."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from agent.competition.relations import Joiner
from agent.competition.relations.build import relate_tables
from tests.relations.synthetic import tables


def _expected(row, orders):
    mine = orders[(orders.customer_id == row.customer_id) & (orders["when"] < pd.Timestamp(row.date))]
    mine = mine.sort_values("when", kind="stable")
    last = mine.iloc[-1] if len(mine) else None
    moment = pd.Timestamp(row.date)
    return {"orders.count": len(mine),
            "orders.amount.mean": mine.amount.mean() if len(mine) else math.nan,
            "orders.amount.max": mine.amount.max() if len(mine) else math.nan,
            "orders.amount.last": last.amount if last is not None else math.nan,
            "orders.days_since_last": (moment - last["when"]).days if last is not None else math.nan,
            "orders.count_30d": int((mine["when"] >= moment - pd.Timedelta(days=30)).sum()),
            "orders.channel.distinct": mine.channel.nunique() if len(mine) else math.nan}


def test_the_aggregates_are_those_of_the_earlier_events_only(tmp_path):
    t = tables()
    related = relate_tables(t["train"], t["test"], {"orders": t["orders"]}, None, tmp_path)
    orders = t["orders"].assign(when=pd.to_datetime(t["orders"].ordered_at))
    for i in range(0, len(t["train"]), 7):
        row = t["train"].iloc[i]
        got = related.train.iloc[i]
        for column, value in _expected(row, orders).items():
            assert (math.isnan(value) and math.isnan(got[column])) or math.isclose(got[column], value), \
                (i, column, got[column], value)


def test_a_later_event_never_leaks_into_a_row(tmp_path):
    """Events on the row's own day and after it, however large, change nothing; one the day before does."""
    t = tables()
    row = t["train"].iloc[0]
    before = relate_tables(t["train"], t["test"], {"orders": t["orders"]}, None, tmp_path / "a").train.iloc[0]
    later = pd.DataFrame({"customer_id": [row.customer_id] * 2, "ordered_at": [row.date, "2030-01-01"],
                          "amount": [1e6, 1e6], "channel": ["fax", "fax"]})
    leaked = relate_tables(t["train"], t["test"], {"orders": pd.concat([t["orders"], later], ignore_index=True)},
                           None, tmp_path / "b").train.iloc[0]
    columns = [c for c in before.index if c.startswith("orders.")]
    pd.testing.assert_series_equal(before[columns], leaked[columns], check_names=False)
    earlier = later.assign(ordered_at=[(pd.Timestamp(row.date) - pd.Timedelta(days=1)).strftime("%Y-%m-%d")] * 2)
    moved = relate_tables(t["train"], t["test"], {"orders": pd.concat([t["orders"], earlier], ignore_index=True)},
                          None, tmp_path / "c").train.iloc[0]
    assert moved["orders.count"] == before["orders.count"] + 2 and moved["orders.amount.max"] == 1e6


def test_one_served_row_gets_the_values_of_the_batch(tmp_path):
    t = tables()
    side = {name: t[name] for name in ("customers", "regions", "orders")}
    related = relate_tables(t["train"], t["test"], side, None, tmp_path)
    joiner = Joiner(related.joins, tmp_path)
    batch = joiner.frame(t["test"])
    for i, record in enumerate(t["test"].to_dict("records")):
        served = joiner.record(record)
        for column in joiner.columns:
            a, b = served[column], batch[column].iloc[i]
            assert (a is None and (b is None or b != b)) or (isinstance(a, float) and math.isnan(a) and
                                                             pd.isna(b)) or a == b or np.isclose(a, b), (column, a, b)
    pd.testing.assert_frame_equal(batch[joiner.columns].reset_index(drop=True),
                                  related.test[joiner.columns].reset_index(drop=True))


def test_an_id_in_a_history_is_counted_not_averaged(tmp_path):
    t = tables()
    orders = t["orders"].assign(product_id=np.random.default_rng(1).integers(0, 25, len(t["orders"])))
    related = relate_tables(t["train"], t["test"], {"orders": orders}, None, tmp_path)
    assert "orders.product_id.distinct" in related.train.columns
    assert not [c for c in related.train.columns if c.startswith("orders.product_id.") and not c.endswith("distinct")]
    assert "orders.amount.mean" in related.train.columns  # a quantity is still averaged
    when = pd.to_datetime(orders.ordered_at)
    for i in range(0, len(t["train"]), 11):
        row = t["train"].iloc[i]
        earlier = orders[(orders.customer_id == row.customer_id) & (when < pd.Timestamp(row.date))]
        got = related.train.iloc[i]["orders.product_id.distinct"]
        assert (len(earlier) == 0 and (math.isnan(got) or got == 0)) or got == earlier.product_id.nunique(), i
