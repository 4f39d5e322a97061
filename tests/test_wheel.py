"""The wheel as a cluster node gets it (tests/wheel.py): installed not editable, run outside the repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.wheel import ROOT, clean_env, install_wheel


@pytest.fixture(scope="session")
def wheel_env(tmp_path_factory) -> Path:
    return install_wheel(tmp_path_factory.mktemp("wheel"))


def test_the_wheel_carries_its_settings_and_imports_nothing_from_the_checkout(wheel_env, tmp_path):
    probe = ("import json, agent, configs, strategies, agent.config as c, agent.runtime.compiled as k; "
             "print(json.dumps({'agent': agent.__file__, 'configs': configs.__file__, "
             "'defaults': str(c.DEFAULT_CONFIG), 'kernel': (k.SOURCES / 'catboost_kernel.c').is_file(), "
             "'spaces': sorted(p.name for p in (c.CONFIG_DIR / 'search_spaces')"
             ".iterdir()), 'example': (c.CONFIG_DIR / 'batch' / 'example.yaml').is_file()}))")
    found = json.loads(subprocess.run([wheel_env / "python", "-c", probe], cwd=tmp_path, env=clean_env(tmp_path),
                                      check=True, capture_output=True, text=True).stdout)
    installed = str(wheel_env.parent)
    for name in ("agent", "configs", "defaults"):
        assert found[name].startswith(installed) and not found[name].startswith(str(ROOT)), found
    assert found["spaces"] == ["catboost.yaml", "lightgbm.yaml", "xgboost.yaml"] and found["example"]
    assert found["kernel"]  # CatBoost's formula compiles where it serves


def test_the_installed_command_helps_lists_metrics_and_runs_a_competition(wheel_env, build_corpus, tmp_path):
    env = clean_env(tmp_path)
    help_text = subprocess.run([wheel_env / "podium", "--help"], cwd=tmp_path, env=env, capture_output=True,
                               text=True, timeout=120)
    assert help_text.returncode == 0 and "run" in help_text.stdout and "batch" in help_text.stdout
    metrics = subprocess.run([wheel_env / "podium", "metrics"], cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=120)
    assert metrics.returncode == 0 and "Root Mean Squared Error" in metrics.stdout
    folder = build_corpus("titanic", rows=300)
    run = subprocess.run([wheel_env / "podium", "run", str(folder), "--time-limit", "25", "--out", "runs"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    manifest = json.loads(next((tmp_path / "runs").glob("*/*/manifest.json")).read_text())
    # Its Ray tasks (AutoGluon's fit among them) ran in workers that could only import podium from the wheel:
    # neither the working directory nor PYTHONPATH holds the checkout.
    assert manifest["status"] == "succeeded"
    assert manifest["phases"]["leaderboard"]["status"] == "succeeded"
    assert Path(manifest["artifacts"]["submission"]).is_file()


def test_the_wheel_carries_the_arena_page_templates(wheel_env, tmp_path):
    probe = ("from agent.arena import pages; from agent.arena.sessions import Session; "
             "print(pages.error(Session(), 'http://127.0.0.1:1', 'Not found', 'No such page')); "
             "print(pages.stylesheet().splitlines()[0])")
    shown = subprocess.run([wheel_env / "python", "-c", probe], cwd=tmp_path, env=clean_env(tmp_path), check=True,
                           capture_output=True, text=True).stdout
    assert '<html lang="en">' in shown and "<h1>Not found</h1>" in shown and "stylesheet" in shown
