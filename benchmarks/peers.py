"""AutoGluon alone, as a user would run it: the peers podium's leaderboard is measured against.

    .venv/bin/python benchmarks/peers.py COMPETITION_DIR MANIFEST BUDGET OUT [PRESETS]

`TabularPredictor(eval_metric=...).fit(train, presets=PRESETS, time_limit=BUDGET)` with every other setting
AutoGluon's default, on the competition's public train.csv, predicting its test.csv into OUT/submission.csv.
The competition (target, metric, submission format) is read from a podium run's manifest, so both sides
answer the same task. Run in a fresh process by `run_peer`, so each peer pays its own imports.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ("best_quality", "best_quality_v150")  # AutoGluon 1.6.3's two CPU presets of best quality


def run_peer(folder: Path, manifest: Path, budget: float, out: Path, presets: str) -> tuple[Path, float]:
    """AutoGluon alone with `presets` in a fresh process: its submission file and wall seconds."""
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    # its own Ray: AutoGluon's bare ray.init() would join any cluster left on the machine (a test's, a run's)
    subprocess.run([sys.executable, str(Path(__file__).resolve()), str(folder), str(manifest), str(budget), str(out),
                    presets], cwd=ROOT, check=True, capture_output=True, env={**os.environ, "RAY_ADDRESS": "local"})
    return out / "submission.csv", time.monotonic() - started


def main(folder: str, manifest: str, budget: str, out: str, presets: str = "best_quality") -> None:
    import json

    import pandas as pd
    from autogluon.tabular import TabularPredictor

    sys.path.insert(0, str(ROOT))
    from agent.competition.inference import Competition
    from agent.competition.submission import build_submission
    from strategies.autogluon_predict import as_prediction

    comp = Competition.from_dict(json.loads(Path(manifest).read_text())["competition"])
    train = pd.read_csv(f"{folder}/public/train.csv")
    test = pd.read_csv(f"{folder}/public/test.csv")
    sample = pd.read_csv(f"{folder}/public/sample_submission.csv")
    features = list(comp.features)
    predictor = TabularPredictor(label=comp.target, problem_type=comp.problem_type, path=f"{out}/ag",
                                 eval_metric=comp.metric.ag_scorer(comp.problem_type), verbosity=0,
                                 positive_class=comp.positive_class if comp.problem_type == "binary" else None)
    predictor.fit(train[features + [comp.target]], presets=presets, time_limit=float(budget))
    raw = predictor.predict_proba(test[features]) if comp.is_classification else predictor.predict(test[features])
    frame = build_submission(comp, sample, test[comp.id_column], as_prediction(raw, comp))
    frame.to_csv(f"{out}/submission.csv", index=False)


if __name__ == "__main__":
    main(*sys.argv[1:])
