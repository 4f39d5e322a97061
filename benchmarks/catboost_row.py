"""What one row and a table of 1,000 rows cost through each path that serves a CatBoost model: CatBoost's Python
`predict`, its exported formula compiled (agent/runtime/catboost_trees.py, the kernel) and in numpy (where
nothing compiles), beside a LightGBM booster of as many trees served as podium serves one row
(agent/runtime/runtimes.py: FastRow); the paths alternated, three rounds.

    .venv/bin/python benchmarks/catboost_row.py [--trees 100 500 1000 2000] [--calls 500] [--records PATH]

A synthetic regression table with two categorical columns (5,000 rows), one thread each.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.rounds import alternated, append_record, percentiles_us  # noqa: E402

RECORDS = Path(__file__).resolve().parent / "results" / "catboost_row.jsonl"


def table(rows: int = 5000) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.normal(size=rows),
                      "c": rng.integers(0, 20, rows), "d": rng.integers(0, 5, rows)})
    return X, (X.a + X.c % 3 + rng.normal(size=rows)).to_numpy()


def main() -> None:
    import lightgbm
    from catboost import CatBoostRegressor

    from agent.runtime.catboost_trees import ObliviousTrees
    from agent.runtime.runtimes import FastRow

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trees", type=int, nargs="+", default=[100, 500, 1000, 2000])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--records", type=Path, default=RECORDS)
    args = parser.parse_args()
    X, y = table()
    row = [0.1, 0.2, 3, 1]
    batch = X.sample(1000, random_state=0)
    for trees in args.trees:
        catboost = CatBoostRegressor(iterations=trees, depth=6, verbose=0, thread_count=1, cat_features=["c", "d"],
                                     allow_writing_files=False)
        catboost.fit(X, y)
        formula = ObliviousTrees.from_catboost(catboost, [2, 3], [20, 5])
        booster = lightgbm.train({"num_leaves": 31, "verbose": -1, "num_threads": 1, "min_data_per_group": 20},
                                 lightgbm.Dataset(X, y, categorical_feature=["c", "d"]), num_boost_round=trees)
        fast = FastRow(booster)
        vector, matrix = np.asarray(row, dtype=float), batch.to_numpy(dtype=float)
        paths = {"catboost.predict": (partial(catboost.predict, row, thread_count=1),
                                      partial(catboost.predict, batch, thread_count=1)),
                 "formula compiled": (partial(formula.raw, vector[None]), partial(formula.raw, matrix)),
                 "formula numpy": (partial(formula.evaluate, vector[None]), partial(formula.evaluate, matrix)),
                 "lightgbm FastRow": (partial(fast, vector), partial(booster.predict, matrix, num_threads=1))}
        for round_, path, (one, table_call) in alternated(paths, args.rounds):
            p50, p99 = percentiles_us(lambda _, call=one: call(), args.calls)
            started = time.perf_counter()
            table_call()
            rows_s = len(matrix) / (time.perf_counter() - started)
            print(f"{trees:>5} trees  {path:<18} round {round_}  p50 {p50:7.1f} us  p99 {p99:7.1f} us  "
                  f"{rows_s:9,.0f} rows/s in a table of {len(matrix):,}")
            append_record(args.records, {"trees": trees, "path": path, "round": round_, "p50_us": round(p50, 1),
                                         "p99_us": round(p99, 1), "table_rows_s": round(rows_s)})


if __name__ == "__main__":
    main()
