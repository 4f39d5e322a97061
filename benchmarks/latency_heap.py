"""What the measuring process's heap does to a latency measurement: its seconds and the p99 it reports, with
the objects alive before set aside from the garbage collector (`frozen_heap`, agent/runtime/latency.py) and with
the full collections it replaced.

    .venv/bin/python benchmarks/latency_heap.py [--rounds 4] [--objects 0 4000000] [--calls 1000]

A LightGBM booster of 1,000 trees served one dict row at a time (as in benchmarks/latency_contention.py),
measured by `measure_latency` in a process holding `--objects` extra small objects (a run's production phase
holds AutoGluon's predictor, the data and every candidate). The two ways alternate within each round.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.latency_contention import served_booster  # noqa: E402
from benchmarks.rounds import alternated, append_record  # noqa: E402

RECORDS = Path(__file__).resolve().parent / "results" / "latency_heap.jsonl"


@contextmanager
def collected_heap():
    """The measurement before `frozen_heap`: a full collection, then timing with every object tracked."""
    gc.collect()
    yield


def main() -> None:
    import agent.runtime.latency as latency

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--objects", type=int, nargs="+", default=[0, 4_000_000])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--records", type=Path, default=RECORDS)
    args = parser.parse_args()
    frame, model = served_booster()
    frozen = latency.frozen_heap
    for objects in sorted(args.objects):
        held = [{"i": i, "list": [i]} for i in range(objects // 2)]  # two objects each  # noqa: F841 - kept alive
        alive = len(gc.get_objects())
        for round_, path, context in alternated({"collected": collected_heap, "frozen": frozen}, args.rounds):
            latency.frozen_heap = context
            started = time.perf_counter()
            report = latency.measure_latency(model, frame.head(500), calls=args.calls, batch_size=100, repeats=1)
            seconds = time.perf_counter() - started
            print(f"{alive:>9,} objects  {path:<9} round {round_}  {seconds:5.2f} s  p50 {report.p50_ms * 1e3:6.1f} us"
                  f"  p99 {report.p99_ms * 1e3:6.1f} us")
            append_record(args.records, {"objects_alive": alive, "path": path, "round": round_,
                                         "seconds": round(seconds, 3), "p50_us": round(report.p50_ms * 1e3, 1),
                                         "p99_us": round(report.p99_ms * 1e3, 1), "calls": report.calls})
    latency.frozen_heap = frozen


if __name__ == "__main__":
    main()
