"""The blend guard on finished runs: the same candidates blended with and without it, scored on hidden answers.

    .venv/bin/python benchmarks/blend_guard.py COMPETITION_DIR RUN_DIR [COMPETITION_DIR RUN_DIR ...]

COMPETITION_DIR is an arena-layout folder with `private/answers.csv` (as `benchmarks/runs.py` builds
them); RUN_DIR a finished `podium run` of it. The candidates are rebuilt from the run (AutoGluon's models in
`models/`, the Optuna trials' saved predictions in `studies/`), then blended four ways: greedy selection
over every candidate (podium before `blend_pool`), over podium's pool (AutoGluon's best model in place of
its stacked models when it stacked; podium's default), the guarded blend of that pool
(`search.blend_guard: true`), and AutoGluon's own best model alone. Prints one JSON line per run, then a
table.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rescore(folder: Path, run: Path) -> dict:
    from autogluon.tabular import TabularPredictor

    from agent.competition.dataset import build_dataset
    from agent.competition.inference import Competition
    from agent.competition.tables import read_competition
    from agent.config import Settings
    from strategies.autogluon import AutoGluonStrategy
    from strategies.ensemble import blend_pool, greedy_ensemble, guarded_ensemble
    from strategies.optuna_search import OptunaSearch
    from tests.grading import hidden_score

    manifest = json.loads((run / "manifest.json").read_text())
    settings = Settings.model_validate(yaml.safe_load((run / "config.yaml").read_text()))
    competition = Competition.from_dict(manifest["competition"])
    public = folder / "public"
    data = build_dataset(competition, read_competition(public / "train.csv", public / "test.csv",
                                                       public / "sample_submission.csv"),
                         settings.run.folds, settings.run.seed)
    predictor = TabularPredictor.load(str(run / "models"), verbosity=0, require_py_version_match=False)
    candidates = AutoGluonStrategy(run / "models").candidates(predictor, competition, data, 0.0)
    for learner in settings.search.learners:
        if (run / "studies" / f"{learner}.journal").is_file():
            search = OptunaSearch(learner, run / "studies", None, keep_best=settings.search.keep_best)
            candidates += search.candidates(search.open_study(), competition)
    answers = pd.read_csv(folder / "private" / "answers.csv")
    metric, kind, steps = competition.metric, competition.problem_type, settings.search.ensemble_iterations

    def hidden(test) -> float:
        return hidden_score(competition, data.test_ids, answers, test)

    candidates.sort(key=lambda c: metric.signed(c.score), reverse=True)
    pool, _ = blend_pool(candidates)
    guarded = guarded_ensemble(pool, data.y, data.folds, metric, steps, kind, seed=settings.run.seed)
    best = next(c for c in candidates if c.strategy_best)
    return {"task": competition.slug, "run": str(run), "metric": competition.metric_name,
            "blend_every_candidate": hidden(greedy_ensemble(candidates, data.y, metric, steps, kind).test),
            "blend_pool": hidden(greedy_ensemble(pool, data.y, metric, steps, kind).test),
            "guarded_pool": hidden(guarded.test), "autogluon_best_model": hidden(best.test),
            "guard_kept": guarded.guard["kept"], "pool": len(pool)}


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]]
    if not paths or len(paths) % 2:
        raise SystemExit(__doc__)
    rows = []
    for folder, run in zip(paths[::2], paths[1::2], strict=True):
        rows.append(rescore(folder, run))
        print(json.dumps(rows[-1]), flush=True)
    print(pd.DataFrame(rows).drop(columns="run").to_string(index=False, float_format=lambda v: f"{v:.5f}"))


if __name__ == "__main__":
    main()
