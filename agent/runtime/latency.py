"""The one latency measurement used everywhere (search, selection, model card, benchmarks, tests).

Measured, never estimated, in the calling process: warm up, then at least `calls` single-row predictions from a
raw dict row to the final served prediction (median and p99), then batches of `batch_size` rows (throughput),
with process CPU time for the cost of a million predictions.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

MIN_CALLS = 200


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

    def to_dict(self) -> dict:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}

    def card(self, measured: str) -> dict:
        """The model card's `latency` block (both models' cards use these names); `measured` says how."""
        return {"p50_ms_batch1": self.p50_ms, "p99_ms_batch1": self.p99_ms, "calls": self.calls,
                "throughput_rows_s_batch1000": self.throughput_rows_s, "batch_size": self.batch_size,
                "cpu_seconds_per_million": self.cpu_seconds_per_million,
                "cpu_seconds_per_million_single_row": self.cpu_seconds_per_million_single, "measured": measured}


def measure_latency(model, rows: pd.DataFrame, calls: int = MIN_CALLS, warmup: int = 20, batch_size: int = 1000,
                    repeats: int = 3, max_seconds: float | None = None) -> LatencyReport:
    """Time `model.predict` on single dict rows and on batches drawn from `rows` (raw, original columns)."""
    if len(rows) == 0:
        raise ValueError("measure_latency needs at least one sample row")
    calls = max(calls, MIN_CALLS)
    records = rows.to_dict("records")
    predict: Callable = model.predict
    for i in range(warmup):
        predict(records[i % len(records)])
    times = np.empty(calls)
    gc.collect()
    started, cpu_started = time.perf_counter(), time.process_time()
    done = 0
    for i in range(calls):
        record = records[i % len(records)]
        t0 = time.perf_counter()
        predict(record)
        times[i] = time.perf_counter() - t0
        done += 1
        if max_seconds is not None and done >= warmup and time.perf_counter() - started > max_seconds:
            break
    cpu_single = (time.process_time() - cpu_started) / done
    times = times[:done] * 1e3

    batch = rows.sample(batch_size, replace=len(rows) < batch_size, random_state=0).reset_index(drop=True)
    predict(batch)
    gc.collect()
    spent, cpu = [], 0.0
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
        cpu_seconds_per_million_single=float(cpu_single * 1e6), complete=done >= calls,
    )
