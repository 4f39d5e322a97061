"""Alternated timing rounds for the single-call benchmarks (benchmarks/text_words.py, catboost_row.py): each path
timed in turn, the order reversed every other round so that no path always runs first on a warmer or a busier
machine, and every measurement appended to the benchmark's records as it is made."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


def percentiles_us(call: Callable[[int], object], calls: int, warmup: int = 50) -> tuple[float, float]:
    """The p50 and p99, in µs, of `call(i)` for i in 0..calls-1, after `warmup` calls."""
    for i in range(warmup):
        call(i)
    times = np.empty(calls)
    for i in range(calls):
        start = time.perf_counter()
        call(i)
        times[i] = time.perf_counter() - start
    p50, p99 = np.percentile(times, [50, 99]) * 1e6
    return float(p50), float(p99)


def alternated(paths: dict[str, T], rounds: int) -> Iterator[tuple[int, str, T]]:
    """(round, name, path) for every path of every round, in order on even rounds and reversed on odd ones."""
    for round_ in range(rounds):
        order = list(paths.items())
        for name, path in order if round_ % 2 == 0 else reversed(order):
            yield round_, name, path


def append_record(path: Path, record: dict[str, Any]) -> None:
    """One JSON line, stamped with the time it was measured, appended to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stamped = {"at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **record}
    with path.open("a") as out:
        out.write(json.dumps(stamped) + "\n")
