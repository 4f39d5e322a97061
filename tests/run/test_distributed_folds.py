"""One competition across a two-node Ray cluster: AutoGluon's folds on both nodes, within the time limit."""

from __future__ import annotations

import json
import time

import pytest
import yaml

from agent.run.pipeline import RunOptions, run_competition
from agent.run.search import autogluon_cpus

TIME_LIMIT = 90  # two 1-CPU nodes: 70 s left AutoGluon a few seconds short of its deadline under load


@pytest.mark.slow  # 90 s: a whole run on two nodes; the CPU split is tested below, batches on two in test_batch
def test_one_competition_spreads_autogluon_folds_over_both_nodes(two_node_cluster, build_corpus, tmp_path):
    cluster, _ = two_node_cluster
    folder = build_corpus("hpc_class", rows=500)
    config = tmp_path / "few-models.yaml"  # two quick models: the fit, not the portfolio, is under test
    config.write_text("leaderboard: {portfolio: {stacked: [], single_level: []}, num_stack_levels: 0}\n"
                      "search: {learners: []}\n")
    started = time.monotonic()
    run = run_competition(RunOptions(source=str(folder), time_limit=TIME_LIMIT, out=tmp_path / "runs",
                                     ray_address=cluster.address, config_file=config))
    wall = time.monotonic() - started
    manifest = json.loads((run.path / "manifest.json").read_text())
    assert manifest["status"] == "succeeded"
    fit = manifest["leaderboard"]["autogluon"]
    assert fit["fold_fitting"] == "parallel_distributed"
    assert fit["cpus"] == 2  # both nodes' CPUs, though each node has one
    nodes = fit.get("fold_nodes")
    assert nodes, f"Ray's state API did not say where the folds ran: {fit}"
    assert len(nodes) == 2, f"every fold ran on one node: {nodes}"
    assert min(nodes.values()) >= 2, nodes
    assert any(c["strategy"] == "autogluon" for c in manifest["leaderboard"]["candidates"])
    assert wall <= 1.1 * TIME_LIMIT + 15, wall  # + Ray's join and the report, as a run on one node


@pytest.mark.parametrize(("configured", "node", "total", "expected"), [
    ("auto", 2, 2, 2),          # one node: its CPUs
    ("auto", 1, 2, 2),          # two 1-CPU nodes: both
    ("auto", 16, 64, 32),       # 4 x 16 CPUs: 8 folds of at most 4 CPUs; the other 32 are the studies'
    ("auto", 4, 64, 32),        # 16 x 4 CPUs: 8 folds x 4
    ("parallel_local", 4, 64, 4),
    ("sequential_local", 1, 2, 1),
])
def test_autogluon_cpus_on_a_cluster(configured, node, total, expected, ray_local):
    assert autogluon_cpus(configured, node, total, folds=8, max_cpus_per_fold=4) == expected


@pytest.fixture
def two_double_nodes():
    """Two Ray nodes of 2 CPUs each (logical CPUs: this machine has 2 cores in all)."""
    import ray
    from ray.cluster_utils import Cluster

    from tests.conftest import _SESSION_RAY

    if ray.is_initialized():
        ray.shutdown()
    _SESSION_RAY.clear()
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 2, "memory": 3 * 2**30, "object_store_memory": 200 * 2**20, "include_dashboard": True})
    cluster.add_node(num_cpus=2, memory=3 * 2**30, object_store_memory=200 * 2**20)
    cluster.wait_for_nodes()
    yield cluster
    if ray.is_initialized():
        ray.shutdown()
    cluster.shutdown()


@pytest.mark.slow  # 80 s: a whole run on a two-node cluster (the fold spreading itself is tested above)
def test_the_studies_run_beside_autogluon_on_the_cpus_its_folds_leave(two_double_nodes, build_corpus, tmp_path):
    """4 CPUs, 2 folds of at most 1 CPU: AutoGluon's fit takes 2, the Optuna study the other 2, at the same time."""
    folder = build_corpus("titanic", rows=500)
    config = tmp_path / "beside.yaml"
    config.write_text(yaml.safe_dump({"run": {"folds": 2}, "search": {"learners": ["lightgbm"]},
                                      "leaderboard": {"max_cpus_per_fold": 1, "num_stack_levels": 0}}))
    run = run_competition(RunOptions(source=str(folder), time_limit=TIME_LIMIT, out=tmp_path / "runs",
                                     ray_address=two_double_nodes.address, config_file=config))
    manifest = json.loads((run.path / "manifest.json").read_text())
    assert manifest["status"] == "succeeded"
    board = manifest["leaderboard"]
    assert board["autogluon"]["cpus"] == 2 and board["autogluon"]["fold_fitting"] == "parallel_distributed"
    study = board["studies"][0]
    assert study["ran"] and study["complete"] >= 1, study
    pieces = {p["name"]: p["actual"] for p in manifest["plan"]["pieces"]}
    assert pieces["optuna"]["start"] < pieces["autogluon"]["end"], pieces  # side by side, not after
    assert any(c["strategy"] == "optuna-lightgbm" for c in board["candidates"])
