"""A real multi-process Ray cluster on one machine, as a platform engineer builds it (docs/running.md).

`ray start --head` and a second `ray start --address ...` with its own resources (separate processes, not
`cluster_utils`), both from a virtual environment where podium is installed from its wheel; then
`ray job submit -- podium batch ...` runs two tiny competitions on it. Ray workers can only import podium
from that installed package: nothing passes them the checkout.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
import requests
import yaml

from tests.wheel import clean_env, install_wheel

pytestmark = pytest.mark.slow
NODE_MEMORY = 3 * 2**30


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _ray(bin_dir: Path, *args: str) -> list[str]:
    return [str(bin_dir / "python"), "-m", "ray.scripts.scripts", *args]


def _stop(process: subprocess.Popen) -> None:
    """End a `ray start --block` and everything it started (never `ray stop`, which stops every Ray here)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def cluster(tmp_path_factory):
    """A head (1 CPU) and a worker node (1 CPU), each a `ray start --block` process group of its own."""
    bin_dir = install_wheel(tmp_path_factory.mktemp("wheel"))
    home = tmp_path_factory.mktemp("home")
    env = clean_env(home)
    temp = Path(tempfile.mkdtemp(prefix="pdm-rc-", dir="/tmp"))  # Ray's socket paths must stay short
    gcs, dashboard, *agent_ports = _free_ports(8)
    common = ["--block", "--num-cpus", "1", "--memory", str(NODE_MEMORY), "--object-store-memory", str(200 * 2**20)]
    head = subprocess.Popen(_ray(bin_dir, "start", "--head", "--port", str(gcs), "--dashboard-port", str(dashboard),
                                 "--include-dashboard", "true", "--temp-dir", str(temp),
                                 "--dashboard-agent-listen-port", str(agent_ports[0]),
                                 "--dashboard-agent-grpc-port", str(agent_ports[1]),
                                 "--runtime-env-agent-port", str(agent_ports[2]), *common),
                            env=env, cwd=home, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    nodes = [head]
    try:
        address = f"http://127.0.0.1:{dashboard}"
        _wait(lambda: requests.get(f"{address}/api/version", timeout=2).ok, "the head's dashboard")
        nodes.append(subprocess.Popen(
            _ray(bin_dir, "start", "--address", f"127.0.0.1:{gcs}",
                 "--dashboard-agent-listen-port", str(agent_ports[3]),
                 "--dashboard-agent-grpc-port", str(agent_ports[4]),
                 "--runtime-env-agent-port", str(agent_ports[5]), *common),
            env=env, cwd=home, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        _wait(lambda: _alive_nodes(address) == 2, "two alive nodes")
        yield bin_dir, address, env, home
    finally:
        for node in reversed(nodes):
            _stop(node)


def _alive_nodes(address: str) -> int:
    nodes = requests.get(f"{address}/nodes?view=summary", timeout=5).json()["data"]["summary"]
    return sum(1 for node in nodes if node["raylet"]["state"] == "ALIVE")


def _wait(check, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException, KeyError, ValueError):
            if check():
                return
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def test_ray_job_submit_runs_a_batch_on_a_two_node_cluster(cluster, build_corpus, tmp_path):
    bin_dir, address, env, home = cluster
    folders = [build_corpus("titanic", rows=300), build_corpus("deliveries", rows=300)]
    batch = tmp_path / "pair.yaml"
    batch.write_text(yaml.safe_dump({"name": "pair", "defaults": {"time_limit": 30, "cpus": 1},
                                     "competitions": [{"source": str(f)} for f in folders]}))
    out = tmp_path / "runs"
    job = subprocess.run(_ray(bin_dir, "job", "submit", "--address", address, "--",
                              str(bin_dir / "podium"), "batch", str(batch), "--out", str(out)),
                         env=env, cwd=home, capture_output=True, text=True, timeout=900)
    assert job.returncode == 0, job.stdout[-4000:] + job.stderr[-2000:]
    table = pd.read_csv(out / "batches" / "pair" / "batch.csv")
    assert list(table["status"]) == ["succeeded", "succeeded"], table.to_string()
    for run_dir in table["run_dir"]:
        manifest = yaml.safe_load((Path(run_dir) / "manifest.json").read_text())
        assert manifest["resources"] == {"cpus": 1, "memory_gb": pytest.approx(NODE_MEMORY / 2**30, abs=0.01)}
        assert (Path(run_dir) / "submission.csv").is_file()
