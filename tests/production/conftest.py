"""Fixtures for the production tests: corpus competitions and one titanic export shared by several tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from strategies.base import Candidate

from .helpers import Corpus, fast_settings, make_corpus, quick_leaderboard


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
