"""Small related tables for the relation tests: customers (a lookup), regions (hanging from customers), orders
(a timed history), all keyed as real exports key them."""

from __future__ import annotations

import numpy as np
import pandas as pd


def tables(rows: int = 300, seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    customers = pd.DataFrame({"customer_id": [f"C{i:03d}" for i in range(40)],
                              "segment": rng.choice(["retail", "pro", "public"], 40),
                              "region_id": rng.integers(0, 5, 40)})
    regions = pd.DataFrame({"region_id": range(5), "area": rng.normal(size=5).round(3)})
    when = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), unit="D")
    train = pd.DataFrame({"id": range(rows), "customer_id": rng.choice(customers.customer_id, rows),
                          "date": when.strftime("%Y-%m-%d"), "x": rng.normal(size=rows).round(3)})
    spend = pd.Series(0.0, index=train.index)
    orders = pd.DataFrame({"customer_id": rng.choice(customers.customer_id, 1500),
                           "ordered_at": (pd.Timestamp("2020-06-01") + pd.to_timedelta(
                               rng.integers(0, 600, 1500), unit="D")).strftime("%Y-%m-%d"),
                           "amount": rng.gamma(2.0, 10.0, 1500).round(2),
                           "channel": rng.choice(["web", "shop", "phone"], 1500)})
    spend += train["customer_id"].map(orders.groupby("customer_id")["amount"].mean()).fillna(0)
    train["churned"] = ((spend + 5 * rng.normal(size=rows)) > spend.median()).astype(int)
    test = train.iloc[-80:].drop(columns="churned").reset_index(drop=True)
    train = train.iloc[:-80].reset_index(drop=True)
    decoy = pd.DataFrame({"customer_id": [f"Z{i}" for i in range(30)], "segment": ["x"] * 30})
    return {"train": train, "test": test, "customers": customers, "regions": regions, "orders": orders,
            "decoy": decoy}
