"""One competition across a two-node Ray cluster: AutoGluon's folds on both nodes, within the time limit."""

from __future__ import annotations

import json
import time

import pytest

from agent.run.pipeline import RunOptions, run_competition
from agent.run.search import autogluon_cpus

TIME_LIMIT = 70


def test_one_competition_spreads_autogluon_folds_over_both_nodes(two_node_cluster, build_corpus, tmp_path):
    cluster, _ = two_node_cluster
    folder = build_corpus("hpc_class", rows=500)
    config = tmp_path / "few-models.yaml"  # two quick models: the fit, not the portfolio, is under test
    config.write_text("leaderboard: {portfolio: [], num_stack_levels: 0}\nsearch: {learners: []}\n")
    started = time.monotonic()
    run = run_competition(RunOptions(source=str(folder), time_limit=TIME_LIMIT, out=tmp_path / "runs",
                                     ray_address=cluster.address, config_file=config))
    wall = time.monotonic() - started
    manifest = json.loads((run.path / "manifest.json").read_text())
    assert manifest["status"] == "succeeded"
    fit = manifest["leaderboard"]["autogluon"]
    assert fit["fold_fitting"] == "parallel_distributed"
    assert fit["cpus"] == 2  # both nodes' CPUs, though each node has one
    nodes = fit["fold_nodes"]
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
