"""A timed history that hangs from a lookup (the transactions of the card's customer) is placed at each row's
time through the lookup's key: only the customer's events strictly before the row count, served rows get the
batch's values, and the key the lookup carries is no feature and no column a caller sends."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from agent.competition.relations import Joiner
from agent.competition.relations.build import relate_tables
from agent.runtime.schema import Schema

CUSTOMERS = 1_200  # more than a category may hold: the customer is a key, never a feature


def chain(rows: int = 240, seed: int = 1) -> dict[str, pd.DataFrame]:
    """train/test -> cards (a lookup on card_id) -> payments (a timed history on the card's customer_id)."""
    rng = np.random.default_rng(seed)
    cards = pd.DataFrame({"card_id": [f"K{i:05d}" for i in range(2 * CUSTOMERS)],
                          "customer_id": [f"P{i % CUSTOMERS:05d}" for i in range(2 * CUSTOMERS)],
                          "tier": rng.choice(["gold", "basic"], 2 * CUSTOMERS)})
    when = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 200, rows), unit="D")
    frame = pd.DataFrame({"id": range(rows), "card_id": rng.choice(cards.card_id[:300], rows),
                          "date": when.strftime("%Y-%m-%d"), "x": rng.normal(size=rows).round(3),
                          "y": rng.integers(0, 2, rows)})
    payments = pd.DataFrame({"customer_id": rng.choice(cards.customer_id, 6000),
                             "paid_at": (pd.Timestamp("2021-09-01") + pd.to_timedelta(
                                 rng.integers(0, 400, 6000), unit="D")).strftime("%Y-%m-%d"),
                             "amount": rng.gamma(2.0, 10.0, 6000).round(2)})
    return {"train": frame.iloc[:-60].reset_index(drop=True),
            "test": frame.iloc[-60:].drop(columns="y").reset_index(drop=True), "cards": cards, "payments": payments}


def _related(tmp_path, t=None):
    t = t or chain()
    return t, relate_tables(t["train"], t["test"], {"cards": t["cards"], "payments": t["payments"]}, None, tmp_path)


def test_only_the_customers_earlier_payments_count(tmp_path):
    t, related = _related(tmp_path)
    entry = {r["table"]: r for r in related.record["relations"]}["payments"]
    assert entry["status"] == "joined" and entry["parent"] == "cards" and entry["through"] == "cards"
    customer = t["cards"].set_index("card_id")["customer_id"]
    paid = t["payments"].assign(when=pd.to_datetime(t["payments"].paid_at))
    for i in range(0, len(t["train"]), 5):
        row, got = t["train"].iloc[i], related.train.iloc[i]
        moment = pd.Timestamp(row.date)
        mine = paid[(paid.customer_id == customer[row.card_id]) & (paid.when < moment)]
        assert got["payments.count"] == len(mine), i
        if len(mine):
            assert math.isclose(got["payments.amount.sum"], mine.amount.sum())
            assert got["payments.days_since_last"] == (moment - mine.when.max()).days
            assert got["payments.count_30d"] == int((mine.when >= moment - pd.Timedelta(days=30)).sum())
        else:
            assert math.isnan(got["payments.amount.mean"])


def test_a_later_payment_never_leaks_in(tmp_path):
    t, before = _related(tmp_path / "a")
    row = t["train"].iloc[0]
    owner = t["cards"].set_index("card_id")["customer_id"][row.card_id]
    later = pd.DataFrame({"customer_id": [owner] * 2, "paid_at": [row.date, "2031-01-01"], "amount": [1e6, 1e6]})
    _, leaked = _related(tmp_path / "b", {**t, "payments": pd.concat([t["payments"], later], ignore_index=True)})
    columns = [c for c in before.train.columns if c.startswith("payments.")]
    pd.testing.assert_series_equal(before.train.iloc[0][columns], leaked.train.iloc[0][columns], check_names=False)
    assert leaked.train["payments.amount.max"].max() < 1e6


def test_the_carried_key_is_no_feature_and_served_rows_match_the_batch(tmp_path):
    t, related = _related(tmp_path)
    assert "cards.customer_id" not in related.train.columns  # a key with 1,200 values: no feature
    assert {r["table"]: r for r in related.record["relations"]}["cards"]["keys_only"] == ["cards.customer_id"]
    assert "cards.tier" in related.train.columns and "payments.count" in related.train.columns
    joiner = Joiner(related.joins, tmp_path)
    batch = joiner.frame(t["test"])
    features = [c for c in related.test.columns if c.startswith(("cards.", "payments."))]
    pd.testing.assert_frame_equal(batch[features], related.test[features])
    for i, record in enumerate(t["test"].head(20).to_dict("records")):
        served = joiner.record(record)
        for column in features:
            a, b = served[column], batch[column].iloc[i]
            assert a == b or (pd.isna(a) and pd.isna(b)) or np.isclose(a, b), (column, a, b)
    # a model reading only the history keeps the lookup for its key; callers send the card and the date
    kept = related.train[["x", "payments.count", "payments.amount.mean"]]
    schema = Schema.infer(kept, relations={"root": str(tmp_path), "joins": [
        j.model_dump(mode="json") for j in related.joins]})
    assert [j.table for j in schema.relations] == ["cards", "payments"]
    assert set(schema.input_names) == {"x", "card_id", "date"}
    derived = schema.derive(t["test"].iloc[0].to_dict())
    assert derived["payments.count"] == related.test["payments.count"].iloc[0]


def test_a_saved_model_joins_the_lookup_then_the_history_from_raw_rows(tmp_path):
    import shutil

    from agent.competition.dataset import build_dataset
    from agent.competition.inference import infer_competition
    from agent.competition.relations.build import join_relations
    from agent.competition.tables import CompetitionData
    from agent.runtime import load_model
    from strategies.production.families import linear_floor
    from strategies.production.problem import make_problem, serving_rows

    t = chain()
    data = CompetitionData(train=t["train"], test=t["test"], tables={k: t[k] for k in ("cards", "payments")},
                           sample_submission=pd.DataFrame({"id": t["test"].id, "y": 0}))
    data = join_relations(data, None, tmp_path / "run" / "relations")
    dataset = build_dataset(competition := infer_competition("cards", data), data, 4, 0)
    problem = make_problem(competition, dataset)
    candidate = linear_floor(problem, tmp_path / "work", serving_rows(dataset, problem.schema), 50)
    moved = tmp_path / "elsewhere"
    shutil.copytree(candidate.folder, moved)
    shutil.rmtree(tmp_path / "run")
    model = load_model(moved)
    assert {j.table for j in model.schema.relations} == {"cards", "payments"}
    assert "cards.customer_id" not in model.schema.input_names and "card_id" in model.schema.input_names
    by_table = model.predict_raw(t["test"])
    one_by_one = np.array([model.predict_raw(row) for row in t["test"].to_dict("records")]).ravel()
    np.testing.assert_allclose(by_table, one_by_one, rtol=1e-9)
    np.testing.assert_allclose(model.predict_raw(dataset.X_test), by_table, rtol=1e-9)
