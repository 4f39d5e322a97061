"""The same batch on a 1-node and a 2-node Ray cluster: wall time and speed-up.

    .venv/bin/python benchmarks/scaling.py --competitions 4 --time-limit 40

Both clusters are built on this machine with `ray.cluster_utils.Cluster` (1 CPU per node, explicit
memory), so the figure measures podium's scheduling: competitions are Ray tasks, and a second node
runs a second competition at the same time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TASKS = ["titanic", "hpc_class", "deliveries", "telco_churn", "diamonds_price", "rodent_species"]


def run_on_cluster(nodes: int, batch: Path, out: Path) -> tuple[float, list]:
    import ray
    from ray.cluster_utils import Cluster

    from agent.batch import run_batch
    from agent.executor import RayExecutor

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "memory": 3 * 2**30,
                                                            "object_store_memory": 200 * 2**20})
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=1, memory=3 * 2**30, object_store_memory=200 * 2**20)
    cluster.wait_for_nodes()
    executor = RayExecutor(address=cluster.address)
    try:
        started = time.monotonic()
        rows, _ = run_batch(batch, out, executor)
        return time.monotonic() - started, rows
    finally:
        executor.shutdown()
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()


def main() -> None:
    import devcorpus

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--competitions", type=int, default=4)
    parser.add_argument("--time-limit", type=float, default=40)
    parser.add_argument("--rows", type=int, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="podium-scaling-") as scratch:
        scratch = Path(scratch)
        folders = [devcorpus.build(t, scratch / "data" / t, rows=args.rows) for t in TASKS[: args.competitions]]
        spec = {"name": "scaling", "defaults": {"time_limit": args.time_limit, "cpus": 1, "memory_gb": 1.0},
                "competitions": [{"source": str(f)} for f in folders]}
        batch = scratch / "scaling.yaml"
        batch.write_text(yaml.safe_dump(spec))
        results = {}
        for nodes in (1, 2):
            seconds, rows = run_on_cluster(nodes, batch, scratch / f"runs-{nodes}")
            ok = sum(r.status == "succeeded" for r in rows)
            results[nodes] = seconds
            print(f"{nodes} node(s): {seconds:.1f}s wall, {ok}/{len(rows)} competitions succeeded", flush=True)
            for row in rows:
                if row.status != "succeeded":
                    print(f"  {row.competition}: {row.error}", flush=True)
    print(f"\nspeed-up 2 nodes vs 1: {results[1] / results[2]:.2f}x "
          f"({args.competitions} competitions, {args.time_limit:.0f}s each, 1 CPU per node)")


if __name__ == "__main__":
    main()
