"""The one latency measurement used everywhere (search, selection, model card, benchmarks, tests).

Measured, never estimated, in the calling process: warm up, then at least `calls` single-row predictions from a
raw dict row to the final served prediction (median and p99), then batches of `batch_size` rows (throughput),
with process CPU time for the cost of a million predictions.

A model served on one thread (every production model) can be timed `retime_preempted`: a call that spent more
than PREEMPTED of its wall time off the core (its wall time minus its thread's CPU time) was descheduled by
other work on the machine, not slowed by the model, and is timed again (at most RETRIES times, then its
quickest try stands). On this project's 2-core machine, with AutoGluon or the leaderboard's figures running
beside it, such calls doubled a model's measured p99 while its CPU time per call moved 7%
(benchmarks/latency_contention.py); a dedicated serving machine does not see them.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

MIN_CALLS = 200
PREEMPTED = (0.1, 20e-6)  # off-core time over this share of a call's wall time, and over this many seconds
RETRIES = 3


@dataclass(frozen=True)
class LatencyReport:
    """What one measurement found; `complete` is False when `max_seconds` cut the single-row calls short."""

    p50_ms: float
    p99_ms: float
    mean_ms: float
    calls: int
    batch_size: int
    throughput_rows_s: float
    cpu_seconds_per_million: float         # at batch_size: the cost of scoring a big table
    cpu_seconds_per_million_single: float  # one row per call: the cost of an online endpoint
    complete: bool = True
    retimed: int = 0  # single-row calls descheduled and timed again (`retime_preempted`)

    def to_dict(self) -> dict:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}

    def card(self, measured: str) -> dict:
        """The model card's `latency` block (both models' cards use these names); `measured` says how."""
        return {"p50_ms_batch1": self.p50_ms, "p99_ms_batch1": self.p99_ms, "calls": self.calls,
                "throughput_rows_s_batch1000": self.throughput_rows_s, "batch_size": self.batch_size,
                "cpu_seconds_per_million": self.cpu_seconds_per_million,
                "cpu_seconds_per_million_single_row": self.cpu_seconds_per_million_single, "measured": measured,
                "retimed_calls": self.retimed}


def measure_latency(model, rows: pd.DataFrame, calls: int = MIN_CALLS, warmup: int = 20, batch_size: int = 1000,
                    repeats: int = 3, max_seconds: float | None = None,
                    retime_preempted: bool = False) -> LatencyReport:
    """Time `model.predict` on single dict rows and on batches drawn from `rows` (raw, original columns); with
    `retime_preempted` (a model that predicts on the calling thread only), single-row calls that were
    descheduled are timed again."""
    if len(rows) == 0:
        raise ValueError("measure_latency needs at least one sample row")
    calls = max(calls, MIN_CALLS)
    records = rows.to_dict("records")
    predict: Callable = model.predict
    for i in range(warmup):
        predict(records[i % len(records)])
    with frozen_heap():
        times = np.empty(calls)
        started, cpu_started = time.perf_counter(), time.process_time()
        done = retimed = 0
        for i in range(calls):
            record = records[i % len(records)]
            times[i], tries = _timed(predict, record, RETRIES if retime_preempted else 1)
            retimed += tries > 1
            done += 1
            if max_seconds is not None and done >= warmup and time.perf_counter() - started > max_seconds:
                break
        cpu_single = (time.process_time() - cpu_started) / done
    times = times[:done] * 1e3

    batch = rows.sample(batch_size, replace=len(rows) < batch_size, random_state=0).reset_index(drop=True)
    predict(batch)
    spent, cpu = [], 0.0
    with frozen_heap():
        for _ in range(max(1, repeats)):
            c0, t0 = time.process_time(), time.perf_counter()
            predict(batch)
            spent.append(time.perf_counter() - t0)
            cpu += time.process_time() - c0
            if max_seconds is not None and sum(spent) > max_seconds:
                break
    return LatencyReport(
        p50_ms=float(np.percentile(times, 50)), p99_ms=float(np.percentile(times, 99)), mean_ms=float(times.mean()),
        calls=done, batch_size=batch_size, throughput_rows_s=float(batch_size / np.median(spent)),
        cpu_seconds_per_million=float(cpu / (len(spent) * batch_size) * 1e6),
        cpu_seconds_per_million_single=float(cpu_single * 1e6), complete=done >= calls, retimed=retimed,
    )


def median_report(reports: list[LatencyReport]) -> LatencyReport:
    """The measurement that stands among several of one model: the one with the median p99 (the upper one of
    an even count), so one slow moment of the machine, or one lucky one, decides nothing."""
    return sorted(reports, key=lambda r: r.p99_ms)[len(reports) // 2]


@contextmanager
def frozen_heap():
    """Time a model as a serving process holds it: the objects alive before (in a run, AutoGluon's predictor,
    the data, every candidate: millions) are set aside from the garbage collector while timing, so a collection
    during the calls scans only what the calls made, and no full collection is needed first (0.4 s each with 4
    million objects alive, twice per measurement)."""
    gc.collect(0)
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _timed(predict: Callable, record, tries: int) -> tuple[float, int]:
    """The wall time of one call, and how many tries it took: up to `tries` while a call was descheduled (off
    the core longer than PREEMPTED allows); the quickest try when every one was."""
    quickest = math.inf
    for attempt in range(1, tries + 1):
        t0, c0 = time.perf_counter(), time.thread_time()
        predict(record)
        wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
        quickest = min(quickest, wall)
        if wall - cpu <= max(PREEMPTED[0] * wall, PREEMPTED[1]):
            return wall, attempt
    return quickest, tries
