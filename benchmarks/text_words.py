"""What reading the words of free-text columns costs one served row, beside the same competition without them:
`schema.derive` + `encoder.encode` of one raw row (a dict, as `podium serve` receives it), the two alternated,
three rounds; and what the words give a compact LightGBM out of fold on the run's folds.

    .venv/bin/python benchmarks/text_words.py [--task titanic] [--rows 0] [--calls 2000] [--records PATH]

Why it exists: the production models read text columns as words (agent/competition/texts.py, docs/production.md)
and the latency budget is 1 ms a row. `--rows 0` builds the competition at its full size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RECORDS = Path(__file__).resolve().parent / "results" / "text_words.jsonl"
PARAMS = {"num_leaves": 15, "n_estimators": 200, "learning_rate": 0.05}


def timed(call, records: list[dict], calls: int) -> tuple[float, float]:
    for record in records[:50]:
        call(record)
    times = []
    for i in range(calls):
        record = records[i % len(records)]
        start = time.perf_counter()
        call(record)
        times.append(time.perf_counter() - start)
    p50, p99 = np.percentile(times, [50, 99]) * 1e6
    return float(p50), float(p99)


def main() -> None:
    from agent.arena.demo import build_from_corpus
    from strategies.production.gbm import fit_and_validate, hard_target
    from strategies.production.problem import make_problem, serving_rows
    from tests.artifacts import corpus_from_folder

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="titanic")
    parser.add_argument("--rows", type=int, default=0, help="rows of the built competition (0: all)")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--records", type=Path, default=RECORDS)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="text-words-")) / args.task
    corpus = corpus_from_folder(build_from_corpus(args.task, folder, rows=args.rows or None))
    problems = {"words": make_problem(corpus.competition, corpus.dataset),
                "no words": make_problem(corpus.competition, corpus.dataset, read_texts=False)}
    texts = problems["words"].schema.texts
    print(f"{args.task}: text columns {sorted(texts)} ({sum(map(len, texts.values()))} words)")
    scores = {}
    for name, problem in problems.items():
        scores[name] = fit_and_validate(problem, PARAMS, hard_target(problem)).score
        print(f"  {name:<9} out of fold {corpus.competition.metric.name}: {scores[name]:.5f} "
              f"({problem.X.shape[1]} features)")
    records = serving_rows(corpus.dataset, problems["words"].schema).to_dict("records")
    calls = {name: (lambda r, p=p: p.encoder.encode(p.schema.derive(r))) for name, p in problems.items()}
    for round_ in range(args.rounds):
        for name, call in (calls.items() if round_ % 2 == 0 else reversed(calls.items())):
            p50, p99 = timed(call, records, args.calls)
            record = {"at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "task": args.task,
                      "rows": len(corpus.dataset.X), "path": name, "round": round_, "p50_us": round(p50, 1),
                      "p99_us": round(p99, 1), "oof": scores[name], "metric": corpus.competition.metric.name,
                      "text_columns": sorted(texts)}
            print(f"  {name:<9} round {round_}  derive+encode one row  p50 {p50:6.1f} us  p99 {p99:6.1f} us")
            args.records.parent.mkdir(parents=True, exist_ok=True)
            with args.records.open("a") as out:
                out.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
