"""Fixtures for the serving tests: one real titanic production artifact, and servers on random ports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from agent.config import ServeSettings
from agent.services.serve import PredictionServer, PredictionService, make_server
from tests.artifacts import Corpus, fast_settings, make_corpus, quick_leaderboard

LIMITS = {"max_body_bytes": 64_000, "max_rows": 50, "timeout": 10}


@dataclass
class Served:
    corpus: Corpus
    artifact: Path

    def rows(self, n: int, start: int = 0) -> list[dict]:
        """Test rows as a JSON client would send them (NaN becomes null)."""
        return json.loads(self.corpus.test.iloc[start:start + n].to_json(orient="records"))


@pytest.fixture(scope="session")
def served(tmp_path_factory) -> Served:
    """A titanic production model exported the way a run exports it (compact search, no students: quick)."""
    from strategies.production import build_production_model

    root = tmp_path_factory.mktemp("serve")
    corpus = make_corpus("titanic", root, rows=600)
    board = quick_leaderboard(corpus)
    result = build_production_model(corpus.competition, corpus.dataset, [board], board.oof, board.score,
                                    root / "run" / "production", fast_settings(distill=False), time_budget_s=15,
                                    leaderboard_test=board.test)
    return Served(corpus, result.out_dir)


@pytest.fixture(scope="session")
def server(served) -> Iterator[PredictionServer]:
    """The server on 127.0.0.1 and a random port, small limits, no request log."""
    yield from _running(served.artifact, ServeSettings(port=0, **LIMITS))


@pytest.fixture
def logged_server(served, tmp_path) -> Iterator[PredictionServer]:
    """The same with a request log in tmp_path/requests.jsonl."""
    yield from _running(served.artifact, ServeSettings(port=0, request_log=str(tmp_path / "requests.jsonl"), **LIMITS))


def _running(artifact: Path, settings: ServeSettings) -> Iterator[PredictionServer]:
    service = PredictionService.load(artifact, settings)
    server = make_server(service, settings.host, settings.port).start()
    try:
        yield server
    finally:
        server.stop()
        service.close()


def frame_of(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame.from_records(rows)
