"""`podium batch` as a user runs it on a laptop: the shipped example, and a batch with no resource settings.

Both run `podium batch` in a fresh process (its own local Ray, as a user gets it), from a working directory
holding the demo folders the example names.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

from agent.arena.demo import build_from_corpus

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "configs" / "batch" / "example.yaml"


def _batch(batch_file: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", "batch", str(batch_file), "--out", "runs", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def _table(cwd: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(cwd / "runs" / "batches" / name / "batch.csv")


def test_the_shipped_example_runs_as_written_with_a_short_time_limit(tmp_path):
    spec = yaml.safe_load(EXAMPLE.read_text())
    for entry in spec["competitions"]:  # the folders the example's header says to build
        build_from_corpus(Path(entry["source"]).name, tmp_path / entry["source"], rows=300)
    result = _batch(EXAMPLE, tmp_path, "--time-limit", "25")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = _table(tmp_path, spec["name"])
    assert list(table["status"]) == ["succeeded"] * len(spec["competitions"]), table.to_string()
    assert table["validation_score"].notna().all()
    for run_dir in table["run_dir"]:
        manifest = yaml.safe_load((Path(run_dir) / "manifest.json").read_text())
        assert manifest["time_limit"] == 25  # the command line replaced the file's 300 s and 200 s
        assert (Path(run_dir) / "submission.csv").is_file()


def test_a_batch_without_any_resource_settings_runs_on_a_laptop(build_corpus, tmp_path):
    folders = [build_corpus("titanic", rows=300), build_corpus("deliveries", rows=300)]
    batch = tmp_path / "bare.yaml"
    batch.write_text(yaml.safe_dump({"competitions": [{"source": str(f), "time_limit": 25} for f in folders]}))
    result = _batch(batch, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = _table(tmp_path, "bare")
    assert list(table["status"]) == ["succeeded", "succeeded"], table.to_string()
    import psutil

    for run_dir in table["run_dir"]:  # each run was told its group's memory: one CPU's share of the node
        resources = yaml.safe_load((Path(run_dir) / "manifest.json").read_text())["resources"]
        assert resources["cpus"] == 1
        assert 0 < resources["memory_gb"] < psutil.virtual_memory().total / 2**30 / 1.5


def test_a_competition_no_node_can_hold_fails_alone_with_what_would_fit(build_corpus, tmp_path):
    folder = build_corpus("titanic", rows=300)
    batch = tmp_path / "huge.yaml"
    batch.write_text(yaml.safe_dump({"competitions": [
        {"source": str(folder), "time_limit": 15, "memory_gb": 100000},
        {"source": str(folder), "time_limit": 15, "cpus": 64}]}))
    result = _batch(batch, tmp_path)
    assert result.returncode == 1
    table = _table(tmp_path, "huge")
    assert list(table["status"]) == ["failed", "failed"]
    assert "100000 GB" in table["error"][0] and "largest Ray node" in table["error"][0]
    assert "64 CPUs" in table["error"][1]
