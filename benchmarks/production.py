"""The leaderboard model against the production model, measured in the same run, on corpus competitions.

    .venv/bin/python benchmarks/production.py [--tasks titanic hpc_class ames_house] [--ag-seconds 60]
                                              [--production-seconds 90] [--latency-ms 1] [--size-mb 5]

For each competition: AutoGluon best_quality (short budget) is the leaderboard model; the production phase then
searches within the budgets and also measures AutoGluon's best model as a deployment clone, with the same
measurement function. Scores are out-of-fold on the run's folds, and on the hidden test answers as a check.
Prints a table and writes the figures as JSON beside the work folder.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.arena.demo import build_from_corpus  # noqa: E402
from agent.config import load_settings  # noqa: E402
from agent.runtime import directory_bytes, load_model  # noqa: E402
from strategies.autogluon import AutoGluonStrategy  # noqa: E402
from strategies.base import Budget  # noqa: E402
from strategies.production import build_production_model  # noqa: E402
from tests.artifacts import corpus_from_folder  # noqa: E402
from tests.grading import hidden_score  # noqa: E402

MB = 1_000_000


def prepare(task: str, root: Path):
    corpus = corpus_from_folder(build_from_corpus(task, root / task))  # as `podium run` reads it; 5 folds
    return corpus.competition, corpus.dataset, pd.read_csv(corpus.folder / "private" / "answers.csv")


def bench(task: str, root: Path, args, settings) -> dict:
    competition, dataset, answers = prepare(task, root)
    started = time.monotonic()
    strategy = AutoGluonStrategy(root / f"{task}-models", presets="best_quality", verbosity=0)
    board = strategy.search(competition, dataset, Budget(args.ag_seconds, args.cpus, 8.0)).candidates
    leader = board[0]
    ag_seconds = time.monotonic() - started
    result = build_production_model(competition, dataset, board, leader.oof, leader.score,
                                     root / f"{task}-run" / "production", settings,
                                     autogluon_path=root / f"{task}-models", time_budget_s=args.production_seconds,
                                     leaderboard_test=leader.test)
    card = result.card.dumped()
    deployed = next((c for c in result.candidates if c.name == "autogluon/best-deploy" and c.measured), None)
    model = load_model(result.out_dir)
    production_test = model.predict_raw(dataset.X_test)
    row = {
        "task": task, "problem_type": competition.problem_type, "metric": competition.metric_name,
        "rows": len(dataset.X), "leaderboard_model": leader.name, "leaderboard_fit_s": round(ag_seconds, 1),
        "leaderboard_oof": leader.score, "leaderboard_test": hidden_score(competition, dataset.test_ids, answers,
                                                                          leader.test),
        "leaderboard_dir_bytes": directory_bytes(root / f"{task}-models"),
        "production_model": result.chosen.name, "production_s": round(result.seconds, 1),
        "production_oof": result.chosen.score,
        "production_test": hidden_score(competition, dataset.test_ids, answers, production_test),
        "production_p50_ms": card["latency"]["p50_ms_batch1"], "production_p99_ms": card["latency"]["p99_ms_batch1"],
        "production_rows_s": card["latency"]["throughput_rows_s_batch1000"],
        "production_bytes": card["size"]["serving_bytes"],
        "production_cpu_s_per_million": card["latency"]["cpu_seconds_per_million"],
        "candidates": [c.to_dict(result.budgets) for c in result.candidates if c.family == "autogluon"],
    }
    if deployed is not None:
        row.update(leaderboard_p50_ms=deployed.latency.p50_ms, leaderboard_p99_ms=deployed.latency.p99_ms,
                   leaderboard_calls=deployed.latency.calls, leaderboard_rows_s=deployed.latency.throughput_rows_s,
                   leaderboard_bytes=deployed.size_bytes)
    return row


def print_table(rows: list[dict]) -> None:
    head = (f"{'task':<12} {'model':<30} {'metric':<28} {'OOF':>8} {'test':>8} {'p50 ms':>9} {'p99 ms':>9} "
            f"{'rows/s@1000':>12} {'size MB':>9}")
    print(head)
    print("-" * len(head))
    for r in rows:
        for who in ("leaderboard", "production"):
            name = r[f"{who}_model"][:30]
            p50, p99 = r.get(f"{who}_p50_ms", float("nan")), r.get(f"{who}_p99_ms", float("nan"))
            rate, size = r.get(f"{who}_rows_s", float("nan")), r.get(f"{who}_bytes", float("nan")) / MB
            print(f"{r['task']:<12} {name:<30} {r['metric'][:28]:<28} {r[f'{who}_oof']:>8.4f} "
                  f"{r[f'{who}_test']:>8.4f} {p50:>9.3f} {p99:>9.3f} {rate:>12,.0f} {size:>9.3f}")
        if "leaderboard_p99_ms" in r:
            latency = r["leaderboard_p99_ms"] / r["production_p99_ms"]
            print(f"{'':<12} ratios leaderboard/production: p99 latency {latency:,.0f}x, "
                  f"size {r['leaderboard_bytes'] / r['production_bytes']:,.0f}x, throughput "
                  f"{r['production_rows_s'] / r['leaderboard_rows_s']:,.0f}x (production faster); "
                  f"leaderboard single-row calls timed: {r['leaderboard_calls']}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=["titanic", "hpc_class", "ames_house"])
    parser.add_argument("--ag-seconds", type=float, default=60.0)
    parser.add_argument("--production-seconds", type=float, default=120.0)
    parser.add_argument("--latency-ms", type=float, default=1.0)
    parser.add_argument("--size-mb", type=float, default=5.0)
    parser.add_argument("--cpus", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("podium").setLevel(logging.INFO)
    settings = load_settings(("benchmark", {"production": {"latency_ms": args.latency_ms, "size_mb": args.size_mb}}))
    root = Path(tempfile.mkdtemp(prefix="podium-production-bench-"))
    rows = []
    for task in args.tasks:
        rows.append(bench(task, root, args, settings))
        print_table(rows[-1:])
    print(f"All competitions (budgets: p99 <= {args.latency_ms:g} ms, size <= {args.size_mb:g} MB):")
    print_table(rows)
    out = root / "production_benchmark.json"
    out.write_text(json.dumps(rows, indent=2, default=str))
    print(f"figures: {out}")


if __name__ == "__main__":
    main()
