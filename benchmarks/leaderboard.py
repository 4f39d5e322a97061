"""podium's leaderboard submission against AutoGluon best_quality alone, same wall budget, hidden answers.

    .venv/bin/python benchmarks/leaderboard.py --budget 180 --tasks titanic hpc_class deliveries

For every corpus task: build the competition, run `podium run` (a fresh process, Ray start included) and
AutoGluon alone (a fresh process, `TabularPredictor(...).fit(time_limit=budget)` with its defaults), score
both submissions on the hidden answers in the competition metric, and print the table and the
win/tie/loss count. `--seeds 0 1 2` builds each task once per seed (another sample of rows and another
hidden split each time) and adds, per task, the mean of each side and how many of the pairs podium won:
one pair is noisy (a few hundred hidden rows, and AutoGluon alone's own stacking decision can flip
between runs). `--variants` adds podium runs with other settings, each a dotted key=value list:

    --variants search.autogluon_share=0.85 leaderboard.num_stack_levels=0,run.folds=5
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AUTOGLUON_ALONE = r"""
import sys, json, pandas as pd
from autogluon.tabular import TabularPredictor
from agent.competition import Competition
from agent.submission import build_submission
from strategies.autogluon import _as_prediction
folder, manifest, budget, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
comp = Competition.from_dict(json.load(open(manifest))["competition"])
train = pd.read_csv(f"{folder}/public/train.csv"); test = pd.read_csv(f"{folder}/public/test.csv")
sample = pd.read_csv(f"{folder}/public/sample_submission.csv")
features = list(comp.features)
predictor = TabularPredictor(label=comp.target, problem_type=comp.problem_type, path=out + "/ag",
    eval_metric=comp.metric.ag_scorer(comp.problem_type), verbosity=0,
    positive_class=comp.positive_class if comp.problem_type == "binary" else None)
predictor.fit(train[features + [comp.target]], presets="best_quality", time_limit=budget)
raw = predictor.predict_proba(test[features]) if comp.is_classification else predictor.predict(test[features])
frame = build_submission(comp, sample, test[comp.id_column], _as_prediction(raw, comp))
frame.to_csv(out + "/submission.csv", index=False)
"""


def variant_config(variant: str) -> dict:
    """'search.autogluon_share=0.65,leaderboard.excluded_model_types=[RF,XT]' -> nested settings."""
    import re

    import yaml

    config: dict = {}
    for item in filter(None, re.split(r",(?![^\[]*\])", variant)):  # commas inside [...] belong to a list
        key, value = item.split("=", 1)
        *parents, leaf = key.strip().split(".")
        node = config
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    return config


def run_podium(folder: Path, budget: float, out: Path, variant: str | None) -> tuple[Path, float]:
    import yaml

    command = [sys.executable, "-m", "cli", "run", str(folder), "--time-limit", str(budget), "--out", str(out)]
    if variant:
        config = out / "variant.yaml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(yaml.safe_dump(variant_config(variant)))
        command += ["--config", str(config)]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"podium run failed ({done.returncode}): {done.stderr[-2000:]}")
    seconds = time.monotonic() - started
    run_dir = max((p.parent for p in out.glob("*/*/manifest.json")), key=lambda p: p.stat().st_mtime)
    return run_dir, seconds


def run_autogluon(folder: Path, manifest: Path, budget: float, out: Path) -> tuple[Path, float]:
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", AUTOGLUON_ALONE, str(folder), str(manifest), str(budget), str(out)],
                   cwd=ROOT, check=True, capture_output=True)
    return out / "submission.csv", time.monotonic() - started


def main() -> None:
    import devcorpus

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=float, default=180)
    parser.add_argument("--rows", type=int, default=3000, help="rows per task (before the train/test split)")
    parser.add_argument("--tasks", nargs="+", default=sorted(devcorpus.TASKS))
    parser.add_argument("--variants", nargs="*", default=[],
                        help="extra podium runs, each 'section.key=value[,section.key=value]'")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="one competition per task and seed")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="podium-bench-") as scratch:
        scratch = Path(scratch)
        for seed in args.seeds:  # every task once before the next seed: a cut-short run still covers them all
            for task in args.tasks:
                rows.append(compare(task, seed, args, scratch / f"{task}-{seed}"))
                print(json.dumps(rows[-1]), flush=True)
    table = pd.DataFrame(rows)
    print()
    print(table.to_string(index=False, float_format=lambda v: f"{v:.5g}"))
    counts = table["result"].value_counts()
    print(f"\nwin/tie/loss vs AutoGluon alone at {args.budget:.0f}s, every pair: "
          f"{counts.get('win', 0)}/{counts.get('tie', 0)}/{counts.get('loss', 0)}")
    if len(args.seeds) > 1:
        print(per_task(table).to_string(index=False, float_format=lambda v: f"{v:.5g}"))


def compare(task: str, seed: int, args, scratch: Path) -> dict:
    """One competition built from `seed`: podium, AutoGluon alone and any variants, scored on hidden answers."""
    import devcorpus
    from agent.competition import Competition
    from tests.grading import grade

    folder = devcorpus.build(task, scratch / "competition", rows=args.rows, seed=seed)
    run_dir, podium_seconds = run_podium(folder, args.budget, scratch / "podium", None)
    manifest = run_dir / "manifest.json"
    comp = Competition.from_dict(json.loads(manifest.read_text())["competition"])
    podium_score = grade(comp, folder, pd.read_csv(run_dir / "submission.csv"))
    ag_file, ag_seconds = run_autogluon(folder, manifest, args.budget, scratch / "autogluon")
    ag_score = grade(comp, folder, pd.read_csv(ag_file))
    row = {"task": task, "seed": seed, "metric": comp.metric_name, "higher_is_better": comp.metric.greater_is_better,
           "podium": podium_score, "podium_s": podium_seconds, "autogluon": ag_score, "autogluon_s": ag_seconds}
    for number, variant in enumerate(args.variants):
        variant_dir, _ = run_podium(folder, args.budget, scratch / f"podium-v{number}", variant)
        row[f"podium[{variant}]"] = grade(comp, folder, pd.read_csv(variant_dir / "submission.csv"))
    row["result"] = outcome(podium_score, ag_score, comp.metric.greater_is_better)
    return row


def outcome(podium: float, autogluon: float, higher_is_better: bool) -> str:
    """win / tie / loss for podium; a tie is within 1e-4 (relative for scores above 1)."""
    if abs(podium - autogluon) <= 1e-4 * max(1.0, abs(autogluon)):
        return "tie"
    return "win" if (podium > autogluon) == higher_is_better else "loss"


def per_task(table: pd.DataFrame) -> pd.DataFrame:
    """Per task: both sides' mean and standard deviation over the seeds, pairs won, and the mean's result."""
    rows = []
    for task, group in table.groupby("task", sort=False):
        higher = bool(group["higher_is_better"].iloc[0])
        rows.append({"task": task, "pairs": len(group),
                     "podium_mean": group["podium"].mean(), "podium_sd": group["podium"].std(),
                     "autogluon_mean": group["autogluon"].mean(), "autogluon_sd": group["autogluon"].std(),
                     "pairs_won": int((group["result"] == "win").sum()),
                     "result_of_means": outcome(group["podium"].mean(), group["autogluon"].mean(), higher)})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    main()
