"""podium as a cluster node gets it: a wheel built from this checkout, installed (not editable) into a fresh
virtual environment, run from a working directory outside the repository.

The fresh environment borrows the test environment's third-party packages through a path file (offline,
seconds instead of gigabytes); path files do not run the `.pth` hooks inside that folder, so the editable
install of this checkout stays invisible, and podium itself can only come from the wheel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def wheel_env(tmp_path_factory) -> Path:
    """A fresh venv with podium installed from a freshly built wheel; returns its bin folder."""
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(root / "dist")],
                   check=True, capture_output=True, text=True, timeout=600)
    wheel = next((root / "dist").glob("podium-*.whl"))
    venv.create(root / "env", with_pip=True)
    bin_dir = root / "env" / "bin"
    site = Path(subprocess.run([bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([bin_dir / "python", "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
                   check=True, capture_output=True, text=True, timeout=600)
    return bin_dir


def _clean_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "HOME": str(tmp), "PODIUM_CACHE_DIR": str(tmp / "cache"), "COLUMNS": "200"}


def test_the_wheel_carries_its_settings_and_imports_nothing_from_the_checkout(wheel_env, tmp_path):
    probe = ("import json, agent, configs, strategies, agent.config as c; "
             "print(json.dumps({'agent': agent.__file__, 'configs': configs.__file__, "
             "'defaults': str(c.DEFAULT_CONFIG), 'spaces': sorted(p.name for p in (c.CONFIG_DIR / 'search_spaces')"
             ".iterdir()), 'example': (c.CONFIG_DIR / 'batch' / 'example.yaml').is_file()}))")
    found = json.loads(subprocess.run([wheel_env / "python", "-c", probe], cwd=tmp_path, env=_clean_env(tmp_path),
                                      check=True, capture_output=True, text=True).stdout)
    installed = str(wheel_env.parent)
    for name in ("agent", "configs", "defaults"):
        assert found[name].startswith(installed) and not found[name].startswith(str(ROOT)), found
    assert found["spaces"] == ["catboost.yaml", "lightgbm.yaml", "xgboost.yaml"] and found["example"]


def test_the_installed_command_helps_lists_metrics_and_runs_a_competition(wheel_env, build_corpus, tmp_path):
    env = _clean_env(tmp_path)
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
