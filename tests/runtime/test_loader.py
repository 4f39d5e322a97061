"""`from agent.runtime import load_model` in a fresh process: predicts, and never imports Ray or AutoGluon."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys
import pandas as pd
from agent.runtime import load_model
model = load_model(sys.argv[1])
rows = pd.read_csv(sys.argv[2])
one = model.predict(rows.iloc[0].to_dict())
many = model.predict(rows)
heavy = sorted({name.split('.')[0] for name in sys.modules} & {'ray', 'autogluon', 'optuna', 'strategies'})
print(json.dumps({"one": one.tolist(), "many": many.tolist(), "heavy": heavy}))
"""


def test_loader_in_a_fresh_process_needs_neither_ray_nor_autogluon(titanic_artifact, titanic, tmp_path):
    rows = tmp_path / "rows.csv"
    titanic.test.to_csv(rows, index=False)
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(titanic_artifact.out_dir), str(rows)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["heavy"] == []  # not ray, not autogluon (nor the search code)
    from agent.runtime import load_model

    expected = load_model(titanic_artifact.out_dir).predict(titanic.test)
    np.testing.assert_allclose(result["many"], expected, rtol=1e-12)
    np.testing.assert_allclose(result["one"], expected[:1], rtol=1e-12)
