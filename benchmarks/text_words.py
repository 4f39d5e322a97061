"""What reading the words of free-text columns costs one served row, beside the same competition without them:
`schema.derive` + `encoder.encode` of one raw row (a dict, as `podium serve` receives it), the two alternated,
three rounds; and what the words give a compact LightGBM out of fold on the run's folds.

    .venv/bin/python benchmarks/text_words.py [--task titanic] [--rows 0] [--calls 2000] [--records PATH]

Why it exists: the production models read text columns as words (agent/competition/texts.py, docs/production.md)
and the latency budget is 1 ms a row. `--rows 0` builds the competition at its full size.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.rounds import alternated, append_record, percentiles_us  # noqa: E402

RECORDS = Path(__file__).resolve().parent / "results" / "text_words.jsonl"
PARAMS = {"num_leaves": 15, "n_estimators": 200, "learning_rate": 0.05}


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
    calls = {name: (lambda i, p=p: p.encoder.encode(p.schema.derive(records[i % len(records)])))
             for name, p in problems.items()}
    for round_, name, call in alternated(calls, args.rounds):
        p50, p99 = percentiles_us(call, args.calls)
        print(f"  {name:<9} round {round_}  derive+encode one row  p50 {p50:6.1f} us  p99 {p99:6.1f} us")
        append_record(args.records, {"task": args.task, "rows": len(corpus.dataset.X), "path": name,
                                     "round": round_, "p50_us": round(p50, 1), "p99_us": round(p99, 1),
                                     "oof": scores[name], "metric": corpus.competition.metric.name,
                                     "text_columns": sorted(texts)})


if __name__ == "__main__":
    main()
