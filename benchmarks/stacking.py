"""How much a second level gains, out of fold as AutoGluon reports it and honestly, and what the production
blend's logistic stacker gains over its weighted mean, on a classification competition of the corpus.

    .venv/bin/python benchmarks/stacking.py [--task hpc_class] [--rows 0] [--records PATH]

Why it exists: the production model is compared with a leaderboard model that stacks, whose out-of-fold score
comes from a level-2 model fitted on level-1 predictions of the very rows it is scored on. Four level-1 models
(LightGBM, LightGBM with extra trees, extra trees, a random forest) are fitted out of fold on the run's folds;
then (a) a level-2 LightGBM on the features and those predictions is scored on the same folds (AutoGluon's way),
and (b) the whole two-level stack is refitted inside each outer fold, its level-1 predictions made on inner
folds, and scored on the outer fold it never saw (honest). Last, the production blend of the three LightGBM
kinds, weighted mean against logistic stacker, both nested (strategies/production/blend.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.rounds import append_record  # noqa: E402

RECORDS = Path(__file__).resolve().parent / "results" / "stacking.jsonl"
INNER_FOLDS = 5


def level_one(seed: int) -> dict:
    import lightgbm as lgb
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier

    return {"lightgbm": lambda: lgb.LGBMClassifier(num_leaves=31, learning_rate=0.05, n_estimators=200,
                                                   random_state=seed, verbose=-1),
            "lightgbm-xt": lambda: lgb.LGBMClassifier(num_leaves=15, learning_rate=0.05, n_estimators=300,
                                                      extra_trees=True, random_state=seed, verbose=-1),
            "lightgbm-shallow": lambda: lgb.LGBMClassifier(num_leaves=7, learning_rate=0.03, n_estimators=600,
                                                           colsample_bytree=0.5, random_state=seed, verbose=-1),
            "extra-trees": lambda: ExtraTreesClassifier(300, n_jobs=2, random_state=seed),
            "random-forest": lambda: RandomForestClassifier(300, n_jobs=2, random_state=seed)}


def level_two(seed: int):
    import lightgbm as lgb

    return lgb.LGBMClassifier(num_leaves=15, learning_rate=0.05, n_estimators=150, random_state=seed, verbose=-1)


def out_of_fold(make, X: np.ndarray, y: np.ndarray, folds: np.ndarray, classes: int) -> np.ndarray:
    oof = np.zeros((len(y), classes))
    for fold in np.unique(folds):
        model = make().fit(X[folds != fold], y[folds != fold])
        oof[folds == fold] = model.predict_proba(X[folds == fold])
    return oof


def as_columns(p: np.ndarray) -> np.ndarray:
    return p[:, 1:] if p.shape[1] == 2 else p


def main() -> None:
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold

    from agent.arena.demo import build_from_corpus
    from strategies.production.blend import nested_oof
    from strategies.production.candidate import Budgets
    from strategies.production.problem import make_problem
    from tests.artifacts import corpus_from_folder

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="hpc_class")
    parser.add_argument("--rows", type=int, default=0, help="rows of the built competition (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--records", type=Path, default=RECORDS)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="stacking-")) / args.task
    corpus = corpus_from_folder(build_from_corpus(args.task, folder, rows=args.rows or None))
    problem = make_problem(corpus.competition, corpus.dataset)
    if problem.problem_type not in ("binary", "multiclass"):
        raise SystemExit(f"{args.task} is a {problem.problem_type} competition: the stacker combines classifiers")
    X = np.nan_to_num(problem.X.astype(float), nan=-999.0)
    y, folds = problem.y.astype(int), problem.folds
    classes = max(2, problem.n_classes)
    makers = level_one(args.seed)
    loss = {}
    oofs = {name: out_of_fold(make, X, y, folds, classes) for name, make in makers.items()}
    for name, oof in oofs.items():
        loss[name] = log_loss(y, oof, labels=range(classes))
    level1 = np.hstack([as_columns(o) for o in oofs.values()])
    same_fold = out_of_fold(lambda: level_two(args.seed), np.hstack([X, level1]), y, folds, classes)
    loss["stack, same folds (AutoGluon's way)"] = log_loss(y, same_fold, labels=range(classes))
    honest, honest_one = np.zeros((len(y), classes)), np.zeros((len(y), classes))
    for fold in np.unique(folds):
        inside, outside = folds != fold, folds == fold
        inner = np.zeros(inside.sum(), dtype=int)
        for i, (_, part) in enumerate(StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=args.seed)
                                      .split(X[inside], y[inside])):
            inner[part] = i
        inner_oof = np.hstack([as_columns(out_of_fold(make, X[inside], y[inside], inner, classes))
                               for make in makers.values()])
        fitted = [make().fit(X[inside], y[inside]) for make in makers.values()]
        outer = np.hstack([as_columns(m.predict_proba(X[outside])) for m in fitted])
        honest[outside] = level_two(args.seed).fit(np.hstack([X[inside], inner_oof]), y[inside]).predict_proba(
            np.hstack([X[outside], outer]))
        honest_one[outside] = fitted[0].predict_proba(X[outside])
    loss["lightgbm, refitted per outer fold"] = log_loss(y, honest_one, labels=range(classes))
    loss["stack, nested (honest)"] = log_loss(y, honest, labels=range(classes))
    members = [oofs[name] if problem.problem_type == "multiclass" else oofs[name][:, 1]
               for name in ("lightgbm", "lightgbm-xt", "lightgbm-shallow")]
    roomy = Budgets(100.0, 10**10)
    for label, stacked in (("blend of the 3 LightGBMs, weighted mean (nested)", False),
                           ("blend of the 3 LightGBMs, logistic stacker (nested)", True)):
        blended = nested_oof(members, problem, [0.1] * 3, [1] * 3, roomy, max_members=3, headroom=1.0,
                             stacked=stacked)
        blended = blended if blended.ndim == 2 else np.column_stack([1 - blended, blended])
        loss[label] = log_loss(y, blended, labels=range(classes))
    print(f"{args.task}: {len(y)} rows, {classes} classes, {int(folds.max()) + 1} folds; log loss")
    for label, value in loss.items():
        print(f"  {label:<55} {value:.4f}")
    append_record(args.records, {"task": args.task, "rows": len(y), "seed": args.seed,
                                 "log_loss": {k: round(v, 5) for k, v in loss.items()}})


if __name__ == "__main__":
    main()
