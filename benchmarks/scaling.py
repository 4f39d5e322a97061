"""A 1-node and a 2-node Ray cluster: a batch's wall time, and one competition's fit spread over both nodes.

    .venv/bin/python benchmarks/scaling.py --competitions 4 --time-limit 40
    .venv/bin/python benchmarks/scaling.py --single --task hpc_class --time-limit 180 --rounds 2

Both clusters are built on this machine with `ray.cluster_utils.Cluster` (1 CPU per node, explicit
memory), so the figures measure podium's scheduling. A batch: competitions are Ray tasks, and a second node
runs a second competition at the same time. --single: one competition, its AutoGluon folds on every node
(AutoGluon's distributed mode); first `podium run` with the same time limit on each cluster (the models
AutoGluon fitted, the hidden score), then AutoGluon alone with a fixed portfolio and no time limit inside a
task on each cluster (the fit's wall time: the speed-up). The two clusters alternate, --rounds times.
Raw records: benchmarks/results/scaling.jsonl.
"""

from __future__ import annotations

import argparse
import json
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

    from agent.executor import RayExecutor
    from agent.run.batch import run_batch

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


def start_cluster(nodes: int):
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "memory": 6 * 2**30,
                                                            "object_store_memory": 300 * 2**20,
                                                            "include_dashboard": True})
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=1, memory=6 * 2**30, object_store_memory=300 * 2**20)
    cluster.wait_for_nodes()
    return cluster


def single_run(nodes: int, folder: Path, time_limit: float, out: Path) -> dict:
    """`podium run` of one competition on a fresh cluster of `nodes` 1-CPU nodes."""
    import ray

    from agent.competition.inference import Competition
    from agent.run.pipeline import RunOptions, run_competition
    from tests.grading import grade

    cluster = start_cluster(nodes)
    try:
        started = time.monotonic()
        run = run_competition(RunOptions(source=str(folder), time_limit=time_limit, out=out,
                                         ray_address=cluster.address))
        wall = time.monotonic() - started
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()
    manifest = json.loads((run.path / "manifest.json").read_text())
    fit = manifest["leaderboard"].get("autogluon") or {}
    comp = Competition.from_dict(manifest["competition"])
    import pandas as pd

    score = grade(comp, folder, pd.read_csv(run.path / "submission.csv"))
    return {"kind": "run", "nodes": nodes, "wall_s": round(wall, 1), "time_limit": time_limit,
            "models": fit.get("models"), "fold_fitting": fit.get("fold_fitting"), "fold_nodes": fit.get("fold_nodes"),
            "hidden_score": score, "metric": comp.metric_name, "run_dir": str(run.path)}


FIXED_PORTFOLIO = {"GBM": [{}, {"extra_trees": True, "ag_args": {"name_suffix": "XT"}}], "CAT": [{}],
                   "XGB": [{}], "RF": [{"n_estimators": 150}]}


def fixed_fit(nodes: int, folder: Path, out: Path) -> dict:
    """AutoGluon with FIXED_PORTFOLIO and no time limit in a task on a fresh cluster: the fit's wall time."""
    import ray

    from agent.executor import RayExecutor
    from agent.run.search import autogluon_cpus
    from tests.artifacts import corpus_from_folder

    data = corpus_from_folder(folder)
    cluster = start_cluster(nodes)
    executor = RayExecutor(address=cluster.address)
    try:
        executor.start()
        cpus = autogluon_cpus("auto", executor.node_cpus(), executor.total_cpus(), data.dataset.n_folds, 4)
        task = executor.submit(_fit_fixed, str(out), data.competition, data.dataset, cpus, num_cpus=1)
        record = {"kind": "fixed", "nodes": nodes, **executor.result(task)}
        if record["fold_fitting"] == "parallel_distributed":
            from strategies.autogluon_folds import fold_nodes

            record["fold_nodes"] = fold_nodes()
        return record
    finally:
        executor.shutdown()
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()


def _fit_fixed(path: str, competition, dataset, cpus: int) -> dict:
    from agent.run.search import fold_fitting
    from strategies.autogluon import AutoGluonStrategy
    from strategies.base import Budget

    strategy = AutoGluonStrategy(Path(path), num_stack_levels=0, verbosity=0, hyperparameters=FIXED_PORTFOLIO,
                                 fold_fitting=fold_fitting("auto", cpus))
    started = time.monotonic()
    result = strategy.search(competition, dataset, Budget(seconds=3600, cpus=cpus, memory_gb=4.0))
    return {"fit_s": round(time.monotonic() - started, 1), "models": result.summary["models"],
            "fold_fitting": result.summary["fold_fitting"], "fold_nodes": None}


def single(args) -> None:
    from agent.arena.demo import build_from_corpus

    records = ROOT / "benchmarks" / "results" / "scaling.jsonl"
    with tempfile.TemporaryDirectory(prefix="podium-scaling-") as scratch:
        scratch = Path(scratch)
        folder = build_from_corpus(args.task, scratch / "data" / args.task, rows=args.rows)
        rows = []
        for round_ in range(args.rounds):
            order = (1, 2) if round_ % 2 == 0 else (2, 1)  # alternate: both clusters see the same machine
            for nodes in order:
                for record in (single_run(nodes, folder, args.time_limit, scratch / f"runs-{round_}-{nodes}"),
                               fixed_fit(nodes, folder, scratch / f"fixed-{round_}-{nodes}")):
                    record.update(task=args.task, rows=args.rows, round=round_)
                    rows.append(record)
                    with records.open("a") as sink:
                        sink.write(json.dumps(record) + "\n")
                    print(json.dumps(record), flush=True)
    for kind in ("run", "fixed"):
        for nodes in (1, 2):
            group = [r for r in rows if r["kind"] == kind and r["nodes"] == nodes]
            if kind == "run":
                print(f"podium run, {nodes} node(s): models {[r['models'] for r in group]}, hidden "
                      f"{[round(r['hidden_score'], 5) for r in group]}, wall {[r['wall_s'] for r in group]} s")
            else:
                print(f"fixed portfolio, {nodes} node(s): fit {[r['fit_s'] for r in group]} s, "
                      f"fold nodes {[r['fold_nodes'] for r in group]}")
    one = sum(r["fit_s"] for r in rows if r["kind"] == "fixed" and r["nodes"] == 1)
    two = sum(r["fit_s"] for r in rows if r["kind"] == "fixed" and r["nodes"] == 2)
    print(f"\nspeed-up of the fixed portfolio, 2 nodes vs 1: {one / two:.2f}x")


def main() -> None:
    import devcorpus
    from agent.arena.demo import build_from_corpus

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--competitions", type=int, default=4)
    parser.add_argument("--time-limit", type=float, default=40)
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--single", action="store_true", help="one competition over both nodes (see above)")
    parser.add_argument("--task", default="hpc_class", choices=sorted(devcorpus.TASKS))
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if args.single:
        single(args)
        return
    with tempfile.TemporaryDirectory(prefix="podium-scaling-") as scratch:
        scratch = Path(scratch)
        folders = [build_from_corpus(t, scratch / "data" / t, rows=args.rows) for t in TASKS[: args.competitions]]
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
