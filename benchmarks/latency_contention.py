"""What other work on the machine does to a production model's measured single-row latency, plain and with
descheduled calls timed again (agent/runtime/latency.py: `retime_preempted`).

    .venv/bin/python benchmarks/latency_contention.py [--rounds 5] [--calls 1000] [--records PATH]

A LightGBM booster of 1,000 trees served as podium serves one row (FastRow from a dict row), measured by
`measure_latency` on a quiet machine and beside 1 and 2 processes that keep a core busy each (matrix
products): on this project's 2 cores, 2 such processes are what an AutoGluon fit or the leaderboard's figures
running beside the production phase amount to. Plain and retimed measurements alternate within each round.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.rounds import alternated, append_record  # noqa: E402

RECORDS = Path(__file__).resolve().parent / "results" / "latency_contention.jsonl"


def _busy(stop) -> None:
    """One core kept busy: matrix products on one BLAS thread."""
    from threadpoolctl import threadpool_limits

    square = np.random.default_rng(0).random((300, 300))
    with threadpool_limits(1):
        while not stop.is_set():
            square @ square


class Served:
    """One dict row in, the booster's prediction out, on the calling thread."""

    def __init__(self, booster, columns: list[str]):
        from agent.runtime.runtimes import FastRow

        self.fast, self.columns, self.booster = FastRow(booster), columns, booster

    def predict(self, rows):
        if isinstance(rows, dict):
            return self.fast(np.asarray([rows[c] for c in self.columns], dtype=float))
        return self.booster.predict(rows[self.columns].to_numpy(dtype=float), num_threads=1)


def served_booster(trees: int = 1000) -> tuple[pd.DataFrame, Served]:
    """20 numeric columns of 5,000 rows and a LightGBM booster of `trees` trees fitted on them, served."""
    import lightgbm

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(5000, 20)), columns=[f"x{i}" for i in range(20)])
    booster = lightgbm.train({"verbose": -1, "num_threads": 1}, lightgbm.Dataset(frame, frame.x0 + rng.normal(
        size=len(frame))), num_boost_round=trees)
    return frame, Served(booster, list(frame.columns))


def main() -> None:
    from agent.runtime.latency import measure_latency

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--records", type=Path, default=RECORDS)
    args = parser.parse_args()
    frame, model = served_booster()
    for busy in (0, 1, 2):
        stop = multiprocessing.Event()
        workers = [multiprocessing.Process(target=_busy, args=(stop,), daemon=True) for _ in range(busy)]
        for worker in workers:
            worker.start()
        time.sleep(0.5)
        try:
            for round_, path, retime in alternated({"plain": False, "retimed": True}, args.rounds):
                report = measure_latency(model, frame.head(500), calls=args.calls, batch_size=100, repeats=1,
                                         retime_preempted=retime)
                print(f"{busy} busy  {path:<8} round {round_}  p50 {report.p50_ms * 1e3:6.1f} us  "
                      f"p99 {report.p99_ms * 1e3:6.1f} us  retimed {report.retimed}")
                append_record(args.records, {"busy_processes": busy, "path": path, "round": round_,
                                             "p50_us": round(report.p50_ms * 1e3, 1),
                                             "p99_us": round(report.p99_ms * 1e3, 1), "retimed": report.retimed,
                                             "calls": report.calls})
        finally:
            stop.set()
            for worker in workers:
                worker.join()


if __name__ == "__main__":
    main()
