"""Time the data checks on 10k and 100k training rows built from corpus tables (upsampled, jittered).

    .venv/bin/python benchmarks/quality.py [--rows 10000 100000] [--tables adult_income diamonds_price]

Prints seconds per check; the checks should take seconds, not minutes, on 100k rows.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import devcorpus  # noqa: E402
from agent.checks import run_checks  # noqa: E402
from agent.competition.inference import infer_competition  # noqa: E402
from agent.competition.tables import CompetitionData  # noqa: E402
from agent.config import load_settings  # noqa: E402


def build(table: str, train_rows: int, seed: int = 0) -> tuple:
    """A competition with `train_rows` train rows and a quarter as many test rows, drawn with replacement."""
    task = devcorpus.TASKS[table]
    frame = devcorpus.load(table).dropna(subset=[task.target])
    total = train_rows + train_rows // 4
    rng = np.random.default_rng(seed)
    frame = frame.sample(n=total, replace=total > len(frame), random_state=seed).reset_index(drop=True)
    for column in frame.columns:  # jitter numbers so upsampling does not make every row a duplicate
        if column != task.target and pd.api.types.is_float_dtype(frame[column]):
            frame[column] = frame[column] * rng.normal(1, 0.01, len(frame))
    frame.insert(0, "id", np.arange(total))
    train, test = frame.iloc[:train_rows], frame.iloc[train_rows:].drop(columns=[task.target])
    sample = pd.DataFrame({"id": test["id"], task.target: train[task.target].iloc[0]})
    data = CompetitionData(train.reset_index(drop=True), test.reset_index(drop=True), sample)
    competition = infer_competition(table, data, {"target": task.target, "task": task.task,
                                                  "evaluation_metric": "Root Mean Squared Error"
                                                  if task.task == "regression" else "AUC"})
    return competition, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--tables", nargs="+", default=["adult_income", "diamonds_price"])
    args = parser.parse_args()
    logging.getLogger("podium").setLevel(logging.CRITICAL)  # findings are counted below, not logged
    settings = load_settings().quality
    print(f"podium data checks, {os.cpu_count()} CPU(s)")
    for table in args.tables:
        for rows in args.rows:
            competition, data = build(table, rows)
            started = time.perf_counter()
            report = run_checks(competition, data, settings)
            wall = time.perf_counter() - started
            slowest = sorted(((v, k) for k, v in report.seconds.items() if k != "total"), reverse=True)[:4]
            counts = report.to_dict()["counts"]
            print(f"{table:>15} train {rows:>7,} test {len(data.test):>6,} features {len(competition.features):>3}: "
                  f"{wall:6.2f} s  ({', '.join(f'{k} {v:.2f}' for v, k in slowest)})  findings {counts}")


if __name__ == "__main__":
    main()
