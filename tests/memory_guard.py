"""A test that runs away with memory ends the session with its name and stacks, not with the kernel's OOM kill.

One thread samples the pytest process's resident memory; past the guard (70% of the machine's memory;
PODIUM_TEST_MEMORY_GUARD_BYTES sets another) it prints the running test and every thread's stack to
stderr and exits with code 3. Without it a runaway test takes the whole machine (and any CI job beside it) down
with no trace of which test it was.
"""

from __future__ import annotations

import faulthandler
import os
import resource
import sys
import threading

import psutil
import pytest

GUARD_BYTES = int(os.environ.get("PODIUM_TEST_MEMORY_GUARD_BYTES") or 0.7 * psutil.virtual_memory().total)
SAMPLE_SECONDS = 0.2
running = {"test": "(collecting)"}
capture = {"manager": None}


def _watch(limit: int) -> None:
    process = psutil.Process()
    event = threading.Event()
    while not event.wait(SAMPLE_SECONDS):
        rss = process.memory_info().rss
        if rss > limit:
            if capture["manager"] is not None:  # pytest holds stderr: give it back, the process ends here
                capture["manager"].suspend_global_capture(in_=False)
            sys.stderr.write(f"\nmemory guard: {running['test']} holds {rss / 2**30:.1f} GiB in the pytest process, "
                             f"over {limit / 2**30:.1f} GiB; stacks follow\n")
            faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
            sys.stderr.flush()
            os._exit(3)


def pytest_configure(config) -> None:
    capture["manager"] = config.pluginmanager.getplugin("capturemanager")
    threading.Thread(target=_watch, args=(GUARD_BYTES,), name="memory-guard", daemon=True).start()


def pytest_terminal_summary(terminalreporter) -> None:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    terminalreporter.write_line(f"memory guard: the pytest process peaked at {peak / 2**30:.2f} GiB "
                                f"(guard {GUARD_BYTES / 2**30:.1f} GiB)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    running["test"] = item.nodeid
    try:
        return (yield)
    finally:
        running["test"] = "(between tests)"
