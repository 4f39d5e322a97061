"""`podium batch` on a two-node Ray cluster: retries after a lost node, failures isolated, reruns skip."""

from __future__ import annotations

import threading
import time

import pandas as pd
import yaml
from typer.testing import CliRunner

from cli import app

runner = CliRunner()


def write_batch(tmp_path, folders, broken):
    spec = {
        "name": "trio",
        "max_retries": 3,
        "defaults": {"time_limit": 25, "cpus": 1, "memory_gb": 1.0,
                     "config": {"search": {"learners": ["lightgbm"]}}},
        "competitions": [{"source": str(f)} for f in folders] + [{"source": str(broken)}],
    }
    path = tmp_path / "trio.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_batch_survives_a_lost_node_and_isolates_failures(two_node_cluster, build_corpus, tmp_path):
    cluster, worker = two_node_cluster
    folders = [build_corpus("titanic", rows=300), build_corpus("hpc_class", rows=400),
               build_corpus("deliveries", rows=300)]
    broken = tmp_path / "broken"
    broken.mkdir()
    pd.DataFrame({"id": [1, 2], "a": [1, 2], "y": [0, 1], "z": [1, 0]}).to_csv(broken / "train.csv", index=False)
    pd.DataFrame({"id": [3], "a": [3]}).to_csv(broken / "test.csv", index=False)
    pd.DataFrame({"id": [3], "target": [0]}).to_csv(broken / "sample_submission.csv", index=False)
    batch = write_batch(tmp_path, folders, broken)
    out = tmp_path / "runs"

    killed_while_running = []

    def running() -> int:
        statuses = []
        for manifest in out.glob("*/batch-*/manifest.json"):
            try:
                statuses.append(yaml.safe_load(manifest.read_text())["status"])
            except Exception:  # noqa: BLE001 - a manifest being replaced right now
                continue
        return statuses.count("running")

    def kill_worker_when_busy():
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(list(out.glob("*/batch-*/manifest.json"))) < 2:
            time.sleep(0.5)
        time.sleep(6)  # let work land on both nodes
        while time.monotonic() < deadline and running() == 0:
            time.sleep(0.2)
        killed_while_running.append(running())
        cluster.remove_node(worker)

    killer = threading.Thread(target=kill_worker_when_busy, daemon=True)
    killer.start()
    result = runner.invoke(app, ["batch", str(batch), "--out", str(out), "--ray-address", cluster.address])
    killer.join()
    assert killed_while_running and killed_while_running[0] >= 1  # the node died with work in flight
    assert result.exit_code == 1, result.output  # one competition is broken on purpose
    table = pd.read_csv(out / "batches" / "trio" / "batch.csv")
    assert len(table) == 4
    good = table.iloc[:3]
    assert (good["status"] == "succeeded").all(), table.to_string()
    assert good["validation_score"].notna().all()
    assert all((out / p).exists() or p for p in good["submission"])
    bad = table.iloc[3]
    assert bad["status"] == "failed" and "Could not find the target" in bad["error"]
    # nothing lost or duplicated: exactly one run directory per competition
    run_dirs = sorted(p.parent for p in out.glob("*/batch-trio-*/manifest.json"))
    assert len(run_dirs) == 4
    assert sum(1 for p in out.glob("*/*/submission.csv")) == 3

    # a rerun skips what already succeeded and tries the failed one again
    before = {d: (d / "manifest.json").stat().st_mtime for d in run_dirs}
    result = runner.invoke(app, ["batch", str(batch), "--out", str(out), "--ray-address", cluster.address])
    assert result.exit_code == 1
    after = {d: (d / "manifest.json").stat().st_mtime for d in run_dirs if (d / "manifest.json").exists()}
    unchanged = [d for d in run_dirs if before[d] == after.get(d)]
    assert len(unchanged) == 3
