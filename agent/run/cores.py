"""Keeping a task to the cores it asked for.

A Ray task that asked for one CPU can still use every core: an OpenMP pool started by an earlier, larger task in
the same worker process keeps its threads, and CatBoost predicts on as many threads as it was fitted with. Beside
the production phase's latency measurements (one thread each) that is the difference between a quiet and an
oversubscribed machine: on this project's 2 cores, two busy processes beside a measurement doubled a model's
measured p99 (benchmarks/latency_contention.py). `confined` holds every thread of the process to that many cores
(the machine's last ones) while inside, and asks the thread pools threadpoolctl knows to size themselves so.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def confined(cores: int = 1) -> Iterator[set[int]]:
    """Every thread of this process, and the threads they start, on `cores` of the cores it may use, until the
    block ends (then as before). Where the platform cannot pin threads, only the thread pools are limited."""
    from threadpoolctl import threadpool_limits

    if not hasattr(os, "sched_setaffinity"):
        with threadpool_limits(cores):
            yield set()
        return
    before = os.sched_getaffinity(0)
    kept = set(sorted(before)[-cores:])
    _pin(kept)
    try:
        with threadpool_limits(cores):
            yield kept
    finally:
        _pin(before)


def _pin(cores: set[int]) -> None:
    for task in Path("/proc/self/task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), cores)
        except (OSError, ValueError):  # a thread that ended meanwhile
            continue
