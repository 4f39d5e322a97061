"""KaggleSource: the real kaggle client against a real arena on 127.0.0.1 (random port).

Fetching, the cache, and one clear error for each way the server or the credentials can fail.
"""

from __future__ import annotations

import json
import socket

import pandas as pd
import pytest

from agent.config import KaggleSettings
from agent.errors import InputError, RemoteError
from agent.sources import KaggleSource, LocalSource, resolve_source
from agent.sources.kaggle import parse_slug


def _source(arena, settings, slug="titanic", **options) -> KaggleSource:
    return KaggleSource(slug, endpoint=arena.url, settings=settings, **options)


def test_fetch_downloads_the_files_and_the_metadata_once(arena, alice, settings, competitions):
    fetched = _source(arena, settings).fetch()
    assert set(fetched.files) == {"train", "test", "sample_submission"}
    for role, path in fetched.files.items():
        public = competitions / "titanic" / "public" / path.name
        assert path.read_bytes() == public.read_bytes(), role
    assert not any(p.name == "answers.csv" for p in fetched.folder.rglob("*"))
    assert fetched.declared == {"evaluation_metric": "AUC"} and fetched.declared_by == "kaggle"
    assert fetched.metadata["max_daily_submissions"] == 5 and fetched.metadata["deadline"].endswith("Z")
    assert fetched.metadata["endpoint"] == arena.url and fetched.metadata["user_has_entered"] is True
    assert len(arena.store.downloads("titanic")) == 1

    again = _source(arena, settings).fetch()  # a second run: the cache, no download
    assert again.files == fetched.files and again.declared == fetched.declared
    assert len(arena.store.downloads("titanic")) == 1

    _source(arena, settings, refresh=True).fetch()  # --refresh downloads again
    assert len(arena.store.downloads("titanic")) == 2


def test_the_cache_needs_no_server(arena, alice, settings):
    first = _source(arena, settings).fetch()
    url = arena.url
    arena.stop()
    cached = KaggleSource("titanic", endpoint=url, settings=settings).fetch()
    assert cached.files == first.files


def test_caches_of_different_endpoints_never_mix(arena, alice, settings):
    folder = _source(arena, settings).cache_folder()
    assert folder.parent.name == arena.url.split("//")[1].replace(":", "_")
    assert KaggleSource("titanic", settings=settings).cache_folder() == folder.parent.parent / "titanic"


def test_token_auth_through_kaggle_api_token(arena, alice, settings, monkeypatch):
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    monkeypatch.setenv("KAGGLE_API_TOKEN", alice)
    assert _source(arena, settings).fetch().files


def test_credentials_from_kaggle_json(arena, alice, settings, monkeypatch, kaggle_home):
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    config = kaggle_home / ".kaggle" / "kaggle.json"
    config.write_text(json.dumps({"username": "alice", "key": alice}))
    config.chmod(0o600)
    assert _source(arena, settings).fetch().files


def test_no_credentials_says_where_to_put_them(arena, settings, kaggle_home):
    with pytest.raises(RemoteError) as caught:
        _source(arena, settings).fetch()
    message = caught.value.message
    assert "No usable Kaggle credentials" in message and str(kaggle_home / ".kaggle" / "kaggle.json") in message
    assert "KAGGLE_USERNAME" in message and "podium arena add-user" in message


def test_a_wrong_key_is_a_401(arena, alice, settings, monkeypatch):
    monkeypatch.setenv("KAGGLE_KEY", "0" * 32)
    with pytest.raises(RemoteError, match="rejected the credentials .*401"):
        _source(arena, settings).fetch()


def test_rules_not_accepted_is_a_403_that_says_how_to_accept(arena, alice, settings, monkeypatch):
    key = arena.store.add_user("bob")
    monkeypatch.setenv("KAGGLE_USERNAME", "bob")
    monkeypatch.setenv("KAGGLE_KEY", key)
    with pytest.raises(RemoteError) as caught:
        _source(arena, settings).fetch()
    message = caught.value.message
    assert "403" in message and "accept this competition's rules" in message
    assert f"{arena.url}/competitions/titanic/rules" in message and "accept-rules titanic" in message
    assert not _source(arena, settings).cache_folder().exists()
    assert list(_source(arena, settings).cache_folder().parent.iterdir()) == []  # no staging left behind


def test_an_unknown_competition_is_a_404(arena, alice, settings):
    with pytest.raises(RemoteError, match="No competition 'no-such-thing'"):
        _source(arena, settings, slug="no-such-thing").fetch()


def test_rate_limits_are_retried_then_succeed(arena, alice, settings):
    arena.faults.throttle(2)
    assert _source(arena, settings).fetch().files
    assert not arena.faults.take_throttle()  # both 429s were answered, and podium went on


def test_rate_limits_that_persist_fail_clearly(arena, alice, settings):
    arena.faults.throttle(100, retry_after="0")
    with pytest.raises(RemoteError, match="rate limiting podium: still 429 Too Many Requests after 2 retries"):
        _source(arena, settings).fetch()


def test_a_hanging_server_times_out(arena, alice, tmp_path):
    arena.faults.hang()
    quick = KaggleSettings(cache_dir=str(tmp_path / "cache"), read_timeout=0.5, retries=1, backoff_seconds=0.01)
    with pytest.raises(RemoteError, match="did not answer within 0.5 s"):
        _source(arena, quick).fetch()


def test_a_server_that_is_not_there(settings, alice):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: connections are refused
        with pytest.raises(RemoteError, match="Could not connect to http://127.0.0.1:.* refused"):
            KaggleSource("titanic", endpoint=f"http://127.0.0.1:{port}", settings=settings).fetch()


@pytest.mark.parametrize(("text", "slug"), [
    ("titanic", "titanic"), ("playground-series-s4e1", "playground-series-s4e1"),
    ("https://www.kaggle.com/competitions/titanic", "titanic"),
    ("https://www.kaggle.com/competitions/titanic/data", "titanic"), ("https://www.kaggle.com/c/titanic", "titanic"),
    ("../etc", None), ("a/b", None), ("https://www.kaggle.com/datasets/x/y", None), ("", None),
])
def test_slugs_and_urls(text, slug):
    assert parse_slug(text) == slug


def test_resolve_source_picks_folders_slugs_and_refuses_the_rest(tmp_path):
    assert isinstance(resolve_source(str(tmp_path)), LocalSource)
    source = resolve_source("https://www.kaggle.com/competitions/titanic", endpoint="http://127.0.0.1:1")
    assert isinstance(source, KaggleSource) and source.slug == "titanic" and source.endpoint == "http://127.0.0.1:1"
    with pytest.raises(InputError, match="neither an existing folder nor a competition slug"):
        resolve_source(str(tmp_path / "missing" / "folder"))


def test_fetched_tables_load(arena, alice, settings):
    fetched = _source(arena, settings, slug="hpc-class").fetch()
    sample = pd.read_csv(fetched.files["sample_submission"])
    assert len(sample) == len(pd.read_csv(fetched.files["test"]))
