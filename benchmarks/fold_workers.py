"""AutoGluon's parallel fold fitting with a fresh Ray worker per fold (its default) against reused workers (podium).

    .venv/bin/python benchmarks/fold_workers.py --tasks hpc_class deliveries diamonds_price --rounds 2

For each corpus competition at full size (at most 60,000 training rows): the same bagged fit (8 folds, two
fitted at a time on 2 CPUs, a fixed portfolio of LightGBM twice, XGBoost and CatBoost, no time limit) in a
fresh process, once as AutoGluon runs it and once after `strategies.autogluon_folds.patch_fold_fitting()`, the two
alternating --rounds times so that both see the same machine. Prints the fit's wall seconds side by side and
whether both fits gave the same validation scores (they must: only the processes differ); each model's fit
seconds are in the raw records, benchmarks/results/fold_workers.jsonl.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PORTFOLIO = {"GBM": [{}, {"extra_trees": True, "ag_args": {"name_suffix": "XT"}}], "XGB": [{}],
             "CAT": [{"iterations": 300}]}
MODES = ("fresh", "reused")


def fit_once(mode: str, folder: str, out: str, cpus: int) -> dict:
    """One bagged fit in this process: AutoGluon's fold workers as they come (`fresh`) or reused."""
    import pandas as pd
    import ray
    import yaml
    from autogluon.tabular import TabularPredictor

    if mode == "reused":
        from strategies.autogluon_folds import patch_fold_fitting

        patch_fold_fitting()
    grading = yaml.safe_load((Path(folder) / "competition.yaml").read_text())["grading"]
    train = pd.read_csv(Path(folder) / "public" / "train.csv").drop(columns=[grading["id_column"]])
    ray.init(num_cpus=cpus, include_dashboard=False, logging_level="ERROR")
    started = time.monotonic()
    predictor = TabularPredictor(label=grading["target"], path=out, verbosity=0).fit(
        train, hyperparameters=PORTFOLIO, num_bag_folds=8, num_bag_sets=1, num_stack_levels=0,
        num_cpus=cpus, num_gpus=0, ag_args_ensemble={"fold_fitting_strategy": "parallel_local"})
    wall = time.monotonic() - started
    board = predictor.leaderboard(silent=True)
    return {"mode": mode, "rows": len(train), "wall_s": round(wall, 1),
            "fit_s": {m: round(float(s), 1) for m, s in zip(board["model"], board["fit_time"], strict=True)},
            "score_val": {m: float(s) for m, s in zip(board["model"], board["score_val"], strict=True)}}


def run_fit(mode: str, folder: Path, out: Path, cpus: int) -> dict:
    """`fit_once` in a fresh process: each side pays its own imports and starts its own Ray."""
    done = subprocess.run([sys.executable, __file__, "--one", mode, str(folder), str(out), str(cpus)], cwd=ROOT,
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    import devcorpus
    from agent.arena.demo import build_from_corpus
    from benchmarks.runs import row_cap

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=["hpc_class", "deliveries", "diamonds_price"],
                        choices=sorted(devcorpus.TASKS))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--records", type=Path, default=ROOT / "benchmarks" / "results" / "fold_workers.jsonl")
    parser.add_argument("--one", nargs=4, metavar=("MODE", "FOLDER", "OUT", "CPUS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        mode, folder, out, cpus = args.one
        print(json.dumps(fit_once(mode, folder, out, int(cpus))))
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="podium-fold-workers-") as scratch:
        for task in args.tasks:
            folder = build_from_corpus(task, Path(scratch) / "data" / task, rows=row_cap())
            for round_ in range(args.rounds):
                for mode in MODES if round_ % 2 == 0 else MODES[::-1]:  # alternate: the same machine for both
                    record = {"task": task, "round": round_, "cpus": args.cpus,
                              **run_fit(mode, folder, Path(scratch) / f"{task}-{round_}-{mode}", args.cpus)}
                    rows.append(record)
                    with args.records.open("a") as sink:
                        sink.write(json.dumps(record) + "\n")
                    print(f"{task} round {round_} {mode}: {record['wall_s']} s", flush=True)
    print("\n| task (train rows) | AutoGluon's fresh workers: wall s | reused: wall s | speed-up | same scores |")
    print("|---|---|---|---|---|")
    for task in args.tasks:
        runs = {mode: [r for r in rows if r["task"] == task and r["mode"] == mode] for mode in MODES}
        walls = {mode: [r["wall_s"] for r in runs[mode]] for mode in MODES}
        same = all(r["score_val"] == runs["fresh"][0]["score_val"] for r in runs["fresh"] + runs["reused"])
        print(f"| {task} ({runs['fresh'][0]['rows']:,}) | {', '.join(map(str, walls['fresh']))} | "
              f"{', '.join(map(str, walls['reused']))} | {sum(walls['fresh']) / sum(walls['reused']):.2f}x | "
              f"{'yes' if same else 'no'} |")


if __name__ == "__main__":
    main()
