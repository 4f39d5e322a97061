"""agent/run/cores.py: a task held to the cores it asked for, then released."""

from __future__ import annotations

import os
import threading

import pytest

from agent.run.cores import confined

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                                reason="pinning threads needs Linux and two cores")


def test_every_thread_is_held_to_one_core_inside_and_released_after():
    before = os.sched_getaffinity(0)
    seen: dict[str, set[int]] = {}
    release = threading.Event()

    def worker() -> None:  # a thread started before the block, like an OpenMP pool's
        seen["early"] = os.sched_getaffinity(0)
        release.wait(10)
        seen["early, after"] = os.sched_getaffinity(0)

    early = threading.Thread(target=worker)
    early.start()
    with confined(1) as kept:
        assert len(kept) == 1 and kept < before
        assert os.sched_getaffinity(0) == kept
        inside = threading.Thread(target=lambda: seen.setdefault("started inside", os.sched_getaffinity(0)))
        inside.start()
        inside.join()
        early_tid = early.native_id
        assert os.sched_getaffinity(early_tid) == kept  # a thread that existed before is held too
    release.set()
    early.join()
    assert seen["started inside"] == kept
    assert os.sched_getaffinity(0) == before and seen["early, after"] == before
