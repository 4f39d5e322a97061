"""Which folds estimate the hidden score best? One LightGBM, several ways of validating it, beside its hidden score.

    .venv/bin/python benchmarks/time_folds.py --competitions OUT/competitions/s0 [--tasks rain_forecast ...]

For each competition `benchmarks/runs.py` built (its folder and `<task>.competition.json`, the competition as
a podium run inferred it), the same LightGBM (300 rounds, learning rate 0.05, 31 leaves, fixed seed) on the
run's features is validated as:
- `random`: 8 random folds (stratified for classes), what podium did before it inferred the split;
- `blocks`: leave-one-block-out for a time split (`run.time_folds: blocks`), whole entities for a grouped one;
- `forward` (time splits): podium's forward-chaining folds, nine blocks, each after the first scored by a model
  fitted on the blocks before it only (eight scored folds, as AutoGluon's `temporal_forward_only` cuts them);
- `last block` (time splits): one holdout, the latest eighth of the rows, fitted on the rest;
and fitted on all of train for its score on the hidden test set. The estimate that lands nearest the hidden
score (and, in regression, the gap with the target's spread taken out: benchmarks/validation_shift.py) is
the scheme to prefer, unless it costs the submission: each scheme's fold models averaged on the test set (what a
run submits when it does not refit on all rows, as AutoGluon's bags and podium's studies do) are scored on the
hidden answers too (`<scheme> bag`), beside the single model fitted on all rows (`hidden`). Seconds, not
minutes: one small model per fold. Records are appended to benchmarks/results/time_folds.jsonl.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.competition.dataset import build_dataset, make_folds  # noqa: E402
from agent.competition.folds import fitted_on  # noqa: E402
from agent.competition.inference import Competition  # noqa: E402
from agent.competition.metrics import score_prediction  # noqa: E402
from agent.competition.split import TIME  # noqa: E402
from agent.competition.tables import read_competition  # noqa: E402

RECORDS = ROOT / "benchmarks" / "results" / "time_folds.jsonl"
PARAMS = {"n_estimators": 300, "learning_rate": 0.05, "num_leaves": 31, "random_state": 0, "verbose": -1,
          "n_jobs": 2}


def _model(problem_type: str):
    return lgb.LGBMRegressor(**PARAMS) if problem_type == "regression" else lgb.LGBMClassifier(**PARAMS)


def _predict(model, X: pd.DataFrame, problem_type: str) -> np.ndarray:
    if problem_type == "regression":
        return model.predict(X)
    proba = model.predict_proba(X)
    return proba[:, 1] if problem_type == "binary" else proba


def _categorical(X: pd.DataFrame) -> pd.DataFrame:
    return X.apply(lambda c: c.astype("category") if c.dtype == object or str(c.dtype) == "string" else c)


def estimate(X, y, problem_type, metric, fit_rows_of, scored, X_test) -> tuple[float, np.ndarray]:
    """The metric on the rows `scored` (fold index -> rows), each predicted by a model fitted on fit_rows_of(k);
    and the fold models' average prediction of the test rows."""
    prediction = np.full((len(y),) if problem_type != "multiclass" else (len(y), int(y.max()) + 1), np.nan)
    used = np.zeros(len(y), dtype=bool)
    bag = []
    for k, rows in scored.items():
        fit = fit_rows_of(k)
        model = _model(problem_type).fit(X.iloc[fit], y[fit])
        prediction[rows] = _predict(model, X.iloc[rows], problem_type)
        bag.append(_predict(model, X_test, problem_type))
        used[rows] = True
    return score_prediction(metric, y[used], prediction[used]), np.mean(bag, axis=0)


def schemes(task_dir: Path, manifest: Path) -> dict[str, float]:
    competition = Competition.from_dict(json.loads(manifest.read_text())["competition"])
    public = task_dir / "public"
    data = read_competition(public / "train.csv", public / "test.csv", public / "sample_submission.csv")
    dataset = build_dataset(competition, data, n_folds=8, seed=0, time_folds="blocks")
    X, y, kind = _categorical(dataset.X), dataset.y, competition.problem_type
    metric = competition.metric
    out = {"split": str(competition.test_split.kind)}
    X_test = _categorical(dataset.X_test)
    answers = pd.read_csv(task_dir / "private" / "answers.csv")
    answers = answers.set_index(competition.id_column).loc[dataset.test_ids]
    hidden_y = competition.encode_target(answers[competition.target])
    bags = {}
    folds = make_folds(y, kind, 8, 0)
    every = {k: np.flatnonzero(folds == k) for k in range(8)}
    out["random"], bags["random"] = estimate(X, y, kind, metric, lambda k: np.flatnonzero(folds != k), every, X_test)
    blocks = dataset.folds
    by_block = {k: np.flatnonzero(blocks == k) for k in range(int(blocks.max()) + 1)}
    out["blocks"], bags["blocks"] = estimate(X, y, kind, metric, lambda k: np.flatnonzero(blocks != k), by_block,
                                             X_test)
    if competition.test_split.kind == TIME:
        # forward-chaining over the same number of scored folds: one block more, the earliest never scored
        chained = build_dataset(competition, data, n_folds=8, seed=0, time_folds="forward").folds  # podium's
        later = {k: np.flatnonzero(chained == k) for k in range(int(chained.max()) + 1)}
        out["forward"], bags["forward"] = estimate(X, y, kind, metric,
                                                   lambda k: np.flatnonzero(fitted_on(chained, k)), later, X_test)
        last = max(by_block)
        out["last block"], _ = estimate(X, y, kind, metric, lambda k: np.flatnonzero(blocks != k),
                                        {last: by_block[last]}, X_test)
    for scheme, prediction in bags.items():
        out[f"{scheme} bag"] = score_prediction(metric, hidden_y, prediction)
    model = _model(kind).fit(X, y)
    out["hidden"] = score_prediction(metric, hidden_y, _predict(model, X_test, kind))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--competitions", type=Path, required=True, help="OUT/competitions/sSEED of runs.py")
    parser.add_argument("--tasks", nargs="*", help="default: every competition in the folder")
    args = parser.parse_args()
    found = args.competitions.glob("*.competition.json")
    tasks = args.tasks or sorted(p.stem.removesuffix(".competition") for p in found)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    rows = []
    for task in tasks:
        scores = schemes(args.competitions / task, args.competitions / f"{task}.competition.json")
        with RECORDS.open("a") as records:
            records.write(json.dumps({"task": task, **scores, "params": PARAMS, "git_commit": commit}) + "\n")
        hidden = scores["hidden"]
        row = {"task": task, "split": scores.pop("split"), "hidden": round(hidden, 4)}
        for name, value in scores.items():
            if name.endswith(" bag"):
                row[name] = f"{value:.4f}"
            elif name != "hidden":
                row[name] = f"{value:.4f} ({100 * abs(value - hidden) / abs(hidden):.1f}%)"
        rows.append(row)
        print(pd.DataFrame([row]).to_string(index=False), flush=True)
    print("\nestimate (its gap |estimate - hidden| / |hidden|); <scheme> bag: its fold models' average, hidden:")
    print(pd.DataFrame(rows).fillna("-").to_string(index=False))


if __name__ == "__main__":
    main()
