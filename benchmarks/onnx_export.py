"""Single-row latency of a production model's ONNX graph (ONNX Runtime, 1 intra-op thread) against load_model.

    .venv/bin/python benchmarks/onnx_export.py                       # titanic and ames, lightgbm and linear
    .venv/bin/python benchmarks/onnx_export.py --artifact runs/titanic/RUN_ID/production --rounds 5

Without --artifact, small artifacts are built as the production search builds them (the corpus's competition,
make_problem, a 40-tree LightGBM or the linear model, ProductionModel.save), and the competition's test rows
are the requests; with --artifact, rows come from --rows-csv or are built from its schema. Each round times
--calls single-row predictions per path, the two paths alternated (their order swapped every round) so both see
the same machine: `load_model(...).predict(dict)` (what podium serve calls: encoder, model, submission format)
and `session.run` on that row's tensors (both outputs; the tensors are built before timing, as a caller of
another language would hold them). Printed: p50 and p99 per path and round; raw records appended to --records.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RECORDS = ROOT / "benchmarks" / "results" / "onnx_export.jsonl"


def built_artifacts(folder: Path) -> list[tuple[str, Path, pd.DataFrame]]:
    from agent.runtime.model import ProductionModel
    from strategies.production.gbm import fit_booster, hard_target
    from strategies.production.linear import fit_linear_runtime
    from strategies.production.problem import make_problem
    from tests.artifacts import make_corpus

    found = []
    for task, rows in (("titanic", 600), ("ames_house", 600)):
        corpus = make_corpus(task, folder / "corpus", rows)
        problem = make_problem(corpus.competition, corpus.dataset, read_texts=False)  # a graph reads no words
        every = np.arange(len(problem.y))
        for family in ("lightgbm", "linear"):
            runtime = fit_booster(problem, {"num_leaves": 15, "n_estimators": 40}, every, hard_target(problem)) \
                if family == "lightgbm" else fit_linear_runtime(problem, every)
            out = folder / f"{task}-{family}"
            ProductionModel(problem.schema, problem.encoder, runtime, problem.output, name=out.name).save(out)
            found.append((out.name, out, corpus.test[problem.schema.names]))
    return found


def time_calls(call, items: list, calls: int, warmup: int = 50) -> list[float]:
    for i in range(warmup):
        call(items[i % len(items)])
    times = []
    for i in range(calls):
        item = items[i % len(items)]
        started = time.perf_counter()
        call(item)
        times.append((time.perf_counter() - started) * 1e3)
    return times


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def measure(name: str, artifact: Path, rows: pd.DataFrame, rounds: int, calls: int, records: Path) -> None:
    import onnxruntime

    from agent.runtime import load_model
    from agent.runtime.onnx import export_onnx, onnx_feeds

    model = load_model(artifact)
    graph = export_onnx(artifact, artifact.parent / f"{name}.onnx")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(graph.path), options, providers=["CPUExecutionProvider"])
    dicts = rows.to_dict("records")
    feeds = [onnx_feeds(rows.iloc[[i]], model.schema) for i in range(len(rows))]
    paths = {"load_model": (model.predict, dicts), "onnxruntime": (lambda f: session.run(None, f), feeds)}
    order = list(paths)
    summary: dict[str, list[tuple[float, float]]] = {p: [] for p in paths}
    for round_ in range(rounds):
        for path in order:
            call, items = paths[path]
            times = time_calls(call, items, calls)
            p50, p99 = percentile(times, 50), percentile(times, 99)
            summary[path].append((p50, p99))
            print(f"{name:22s} round {round_}  {path:12s} p50 {p50 * 1e3:7.1f} us  p99 {p99 * 1e3:7.1f} us",
                  flush=True)
            record = {"benchmark": "onnx_export", "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                      "artifact": name, "path": path, "round": round_, "order": order.index(path), "calls": calls,
                      "rows": len(rows), "p50_ms": p50, "p99_ms": p99, "mean_ms": statistics.fmean(times),
                      "times_ms": [round(t, 5) for t in times], "onnx_bytes": graph.bytes,
                      "onnx_nodes": len(__import__("onnx").load(str(graph.path)).graph.node),
                      "onnxruntime": onnxruntime.__version__, "python": platform.python_version(),
                      "machine": platform.machine(), "intra_op_threads": 1}
            with records.open("a") as handle:
                handle.write(json.dumps(record) + "\n")
        order.reverse()
    for path, values in summary.items():
        p50s, p99s = [v[0] * 1e3 for v in values], [v[1] * 1e3 for v in values]
        print(f"{name:22s} {path:12s} p50 median {statistics.median(p50s):7.1f} us (rounds {min(p50s):.1f}-"
              f"{max(p50s):.1f}), p99 median {statistics.median(p99s):7.1f} us (rounds {min(p99s):.1f}-"
              f"{max(p99s):.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifact", type=Path, help="a production folder (default: build small ones)")
    parser.add_argument("--rows-csv", type=Path, help="request rows for --artifact (default: from its schema)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=400, help="single-row calls per path and round")
    parser.add_argument("--records", type=Path, default=RECORDS)
    args = parser.parse_args()
    args.records.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        if args.artifact:
            from agent.runtime import load_model
            from agent.runtime.onnx.check import probe_rows

            schema = load_model(args.artifact).schema
            rows = pd.read_csv(args.rows_csv) if args.rows_csv else probe_rows(schema)
            targets = [(args.artifact.resolve().parent.name, args.artifact, rows[schema.names])]
            for name, artifact, request_rows in targets:  # the graph is written beside the artifact
                measure(name, artifact, request_rows, args.rounds, args.calls, args.records)
            return
        for name, artifact, rows in built_artifacts(Path(work)):
            measure(name, artifact, rows, args.rounds, args.calls, args.records)


if __name__ == "__main__":
    main()
