"""Shared fixtures: Kaggle-style competitions built from the packaged development corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agent.arena.demo import build_from_corpus
from strategies.base import Candidate
from tests.artifacts import Corpus, fast_settings, make_corpus, quick_leaderboard

pytest_plugins = ["tests.memory_guard"]


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("corpus")


@pytest.fixture(scope="session")
def build_corpus(corpus_dir):
    """Build (once per session) a small competition folder from a corpus task."""
    built: dict[tuple, Path] = {}

    def build(task: str, rows: int = 600, **options) -> Path:
        key = (task, rows, tuple(sorted(options.items())))
        if key not in built:
            name = f"{task}-{rows}-{len(built)}"
            built[key] = build_from_corpus(task, corpus_dir / name, rows=rows, **options)
        return built[key]

    return build


def write_competition(folder: Path, train: pd.DataFrame, test: pd.DataFrame, sample: pd.DataFrame,
                      declared: dict | None = None) -> Path:
    """Write a plain competition folder (no arena layout) from tables made in a test."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.csv", index=False)
    test.to_csv(folder / "test.csv", index=False)
    sample.to_csv(folder / "sample_submission.csv", index=False)
    if declared:
        (folder / "competition.yaml").write_text(yaml.safe_dump(declared))
    return folder


def hidden_answers(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "private" / "answers.csv")


def make_tables(n: int = 200, seed: int = 0, target_values=None):
    """A small synthetic table with a learnable target; `target_values` maps a score to labels."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    score = x1 + 0.5 * x2 + (colour == "red")
    frame = pd.DataFrame({"id": np.arange(n) + 1000, "x1": x1, "x2": x2, "colour": colour})
    frame["target"] = target_values(score) if target_values else score
    return frame


_SESSION_RAY: dict = {}


@pytest.fixture
def ray_local(tmp_path_factory):
    """A private local Ray kept for the whole session (podium reuses a Ray the process already holds).

    Started on first use; a test that needs another Ray (a multi-node cluster) shuts it down first, and the
    next test that asks for it starts it again.
    """
    return local_ray(tmp_path_factory)


def local_ray(tmp_path_factory):
    """The session's local Ray (see ray_local), for fixtures of a wider scope too."""
    import ray

    from agent.executor import RayExecutor

    if not ray.is_initialized() or _SESSION_RAY.get("kind") != "local":
        if ray.is_initialized():
            ray.shutdown()
        executor = RayExecutor(num_cpus=2, temp_dir=Path("/tmp") / f"ray-{tmp_path_factory.getbasetemp().name}")
        executor.start()
        _SESSION_RAY.update(kind="local", executor=executor)
    return _SESSION_RAY["executor"]


@pytest.fixture
def two_node_cluster():
    """Two Ray nodes on this machine, 1 CPU each, explicit memory: a cluster in miniature (with the dashboard,
    which serves Ray's state API: where each task ran)."""
    import ray
    from ray.cluster_utils import Cluster

    if ray.is_initialized():
        ray.shutdown()
    _SESSION_RAY.clear()
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "memory": 3 * 2**30, "object_store_memory": 200 * 2**20, "include_dashboard": True})
    worker = cluster.add_node(num_cpus=1, memory=3 * 2**30, object_store_memory=200 * 2**20)
    cluster.wait_for_nodes()
    yield cluster, worker
    if ray.is_initialized():
        ray.shutdown()
    cluster.shutdown()


@pytest.fixture(scope="session", autouse=True)
def _stop_session_ray():
    yield
    import ray

    if ray.is_initialized():
        ray.shutdown()


# Production models: corpus competitions and one titanic export shared by the runtime and build tests.

@pytest.fixture(scope="session")
def corpus_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("production-corpus")


@pytest.fixture(scope="session")
def titanic(corpus_root) -> Corpus:
    return make_corpus("titanic", corpus_root, rows=600)


@pytest.fixture(scope="session")
def hpc(corpus_root) -> Corpus:
    return make_corpus("hpc_class", corpus_root, rows=500)


@pytest.fixture(scope="session")
def ames(corpus_root) -> Corpus:
    return make_corpus("ames_house", corpus_root, rows=400)


@pytest.fixture(scope="session")
def titanic_board(titanic) -> Candidate:
    return quick_leaderboard(titanic)


@pytest.fixture(scope="session")
def titanic_artifact(titanic, titanic_board, tmp_path_factory):
    """One production export of titanic shared by the tests that inspect an artifact (built once)."""
    from strategies.production import build_production_model

    out = tmp_path_factory.mktemp("titanic-run") / "production"
    return build_production_model(titanic.competition, titanic.dataset, [titanic_board], titanic_board.oof,
                                  titanic_board.score, out, fast_settings(), time_budget_s=60,
                                  leaderboard_test=titanic_board.test)


# A real PostgreSQL server (tests/postgres.py), started once per session by the tests that ask for it.

@pytest.fixture(scope="session")
def postgres():
    from tests.postgres import PostgresServer, binaries

    if binaries() is None:
        pytest.fail("PostgreSQL is not installed: `make test` installs it (apt-get install postgresql)")
    server = PostgresServer.start()
    yield server
    server.stop()
