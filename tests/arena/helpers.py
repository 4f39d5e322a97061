"""Fixtures shared by tests/arena and tests/sources: a real arena on 127.0.0.1 (random port), a Kaggle home.

Imported by both conftest.py files. Competitions are built once per session from the development corpus
and copied per test, so every test gets a fresh arena state.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from agent.arena.demo import build_from_corpus
from agent.arena.server import ArenaServer
from agent.config import KaggleSettings

KAGGLE_ENV = ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "KAGGLE_CONFIG_DIR", "KAGGLE_API_ENVIRONMENT",
              "PODIUM_KAGGLE_ENDPOINT", "XDG_CONFIG_HOME")
# slug -> (corpus task, rows, metric)
COMPETITIONS = {
    "titanic": ("titanic", 400, None),
    "titanic-labels": ("titanic", 400, "Categorization Accuracy"),
    "hpc-class": ("hpc_class", 400, None),
    "deliveries": ("deliveries", 300, None),
}


@pytest.fixture(scope="session")
def arena_template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("arena-template")
    for slug, (task, rows, metric) in COMPETITIONS.items():
        build_from_corpus(task, root / slug, rows=rows, metric=metric, max_daily_submissions=5)
    return root


@pytest.fixture(autouse=True)
def kaggle_home(tmp_path, monkeypatch) -> Path:
    """Every test: HOME and KAGGLE_CONFIG_DIR in temp folders, and no Kaggle credentials from the environment."""
    for name in KAGGLE_ENV:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    (home / ".kaggle").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(home / ".kaggle"))
    return home


@pytest.fixture
def competitions(arena_template, tmp_path) -> Path:
    root = tmp_path / "competitions"
    shutil.copytree(arena_template, root)
    return root


@pytest.fixture
def arena(competitions, kaggle_home):
    server = ArenaServer(competitions).start()
    yield server
    server.stop()


@pytest.fixture
def alice(arena, monkeypatch) -> str:
    """A user who accepted every competition's rules, set as the kaggle client's credentials."""
    key = arena.store.add_user("alice")
    user = arena.store.user("alice")
    for slug in COMPETITIONS:
        arena.store.accept_rules(user, slug)
    monkeypatch.setenv("KAGGLE_USERNAME", "alice")
    monkeypatch.setenv("KAGGLE_KEY", key)
    return key


@pytest.fixture
def settings(tmp_path) -> KaggleSettings:
    """Fast retries and short waits, a private cache."""
    return KaggleSettings(cache_dir=str(tmp_path / "cache"), retries=2, backoff_seconds=0.01,
                          backoff_max_seconds=0.05, connect_timeout=2, read_timeout=5, poll_wait=60,
                          poll_interval=0.1)


def set_declared(folder: Path, **fields) -> None:
    """Change a competition.yaml in place (the arena rereads it when it changes)."""
    path = folder / "competition.yaml"
    data = yaml.safe_load(path.read_text())
    data.update(fields)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 2))  # a new mtime even within the same second
