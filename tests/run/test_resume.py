"""A run killed with SIGKILL mid-study resumes without losing a finished trial."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
import yaml
from typer.testing import CliRunner

from cli import app

runner = CliRunner()


def study_trials(journal: Path):
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    storage = JournalStorage(JournalFileBackend(str(journal)))
    return optuna.load_study(study_name="lightgbm", storage=storage).get_trials(deepcopy=False)


@pytest.mark.slow  # 55 s: a run killed and resumed; a SIGKILL mid-run is also in test_run_plan.py
def test_resume_after_sigkill_keeps_finished_trials(ray_local, build_corpus, tmp_path):
    folder = build_corpus("titanic", rows=500)
    config = tmp_path / "optuna-only.yaml"
    config.write_text(yaml.safe_dump({"search": {"autogluon_share": 0.0, "learners": ["lightgbm"],
                                                 "min_optuna_seconds": 1}}))
    out = tmp_path / "runs"
    cache = Path(tempfile.mkdtemp(prefix="pdm-", dir="/tmp"))  # Ray's socket paths must stay short
    env = {**os.environ, "PODIUM_CACHE_DIR": str(cache)}
    driver = subprocess.Popen(
        [sys.executable, "-m", "cli", "run", str(folder), "--time-limit", "300", "--config", str(config),
         "--out", str(out)], cwd=Path(__file__).resolve().parents[2], env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 150
        journal = None
        while time.monotonic() < deadline:
            journal = next(out.glob("*/*/studies/lightgbm.journal"), None)
            if journal and sum(t.state.name == "COMPLETE" for t in study_trials(journal)) >= 3 and \
                    any(t.state.name == "RUNNING" for t in study_trials(journal)):
                break
            time.sleep(0.5)
        else:
            raise AssertionError("the study never reached three finished trials")
    finally:
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()
    # the killed driver's private Ray goes with it (Ray's processes share their driver's fate)
    lingering = []
    for _ in range(40):
        lingering = [p for p in psutil.process_iter(["cmdline"]) if str(cache) in " ".join(p.info["cmdline"] or [])]
        if not lingering:
            break
        time.sleep(0.25)
    assert not lingering, lingering
    before = {t.number: t for t in study_trials(journal)}
    finished = {n: t.value for n, t in before.items() if t.state.name == "COMPLETE"}
    interrupted = {n: t.params for n, t in before.items() if t.state.name == "RUNNING"}
    run_dir = journal.parent.parent
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "running"
    lock = Path(f"{journal}.lock")  # a driver killed while writing leaves the journal's lock behind
    if not os.path.lexists(lock):
        lock.symlink_to(f"{journal}.lock-target-of-the-killed-driver")

    result = runner.invoke(app, ["run", "--resume", str(run_dir), "--time-limit", "25"])
    assert result.exit_code == 0, result.output
    after = {t.number: t for t in study_trials(journal)}
    for number, value in finished.items():  # nothing finished was lost or changed
        assert after[number].state.name == "COMPLETE" and after[number].value == value
    later_params = [t.params for n, t in after.items() if n > max(before)]
    for number, params in interrupted.items():
        assert after[number].state.name == "FAIL"
        # its parameters were queued again (a driver killed mid-sampling leaves some unset: those are sampled)
        assert any(params.items() <= later.items() for later in later_params), (params, later_params)
    assert "Forcibly releasing the lock file" not in (run_dir / "podium.log").read_text()  # not after 30 s
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "succeeded" and manifest["resumed_at"]
    names = {c["name"] for c in manifest["leaderboard"]["candidates"]}
    assert any(name.startswith("optuna-lightgbm/trial-") for name in names)
    assert (run_dir / "submission.csv").is_file()


def test_resume_refuses_a_run_whose_driver_still_runs(tmp_path):
    from agent.rundir import Run

    run = Run.create(tmp_path / "runs", "some-competition", source=str(tmp_path / "folder"), time_limit=60)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        run.update(driver={**run.manifest["driver"], "pid": alive.pid,
                           "process_started": psutil.Process(alive.pid).create_time()})
        result = runner.invoke(app, ["run", "--resume", str(run.path)])
        assert result.exit_code != 0
        assert f"still running (process {alive.pid}" in result.output
        assert json.loads(run.file("manifest.json").read_text())["driver"]["pid"] == alive.pid  # untouched
    finally:
        alive.kill()
        alive.wait()
    result = runner.invoke(app, ["run", "--resume", str(run.path)])  # its driver is gone: the resume goes on
    assert "still running" not in result.output
