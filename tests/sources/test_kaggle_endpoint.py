"""The one seam podium uses to point the official client elsewhere: fails loudly if kagglesdk moves it."""

from __future__ import annotations

from importlib import metadata

import pytest

from agent.errors import InputError, RemoteError
from agent.kaggle.endpoint import normalise_endpoint, pointed_at, resolve_endpoint

METHOD = ("competitions.CompetitionApiService", "ListCompetitions")


def test_kagglesdk_still_has_the_endpoint_table_podium_patches():
    from kagglesdk import kaggle_env

    assert metadata.version("kagglesdk") == "0.1.38", "the seam is private: re-check it before moving the pin"
    assert isinstance(kaggle_env._env_to_endpoint, dict), "kagglesdk.kaggle_env._env_to_endpoint moved"
    assert kaggle_env._env_to_endpoint[kaggle_env.KaggleEnv.PROD] == "https://api.kaggle.com"
    assert kaggle_env.get_endpoint(kaggle_env.KaggleEnv.PROD) is kaggle_env._env_to_endpoint[kaggle_env.KaggleEnv.PROD]


def test_pointed_at_sends_the_real_clients_requests_to_the_endpoint_and_restores_it():
    from kaggle.api.kaggle_api_extended import KaggleApi
    from kagglesdk.kaggle_env import KaggleEnv
    from kagglesdk.kaggle_http_client import KaggleHttpClient

    with pointed_at("http://127.0.0.1:9"):
        client = KaggleApi.build_kaggle_client_with_params([]).http_client()  # what every KaggleApi call builds
        assert client._get_request_url(*METHOD) == "http://127.0.0.1:9/v1/competitions.CompetitionApiService/" \
                                                   "ListCompetitions"
        local = KaggleHttpClient(env=KaggleEnv.LOCAL)
        assert local._get_request_url(*METHOD).startswith("http://127.0.0.1:9/api/v1/")
    after = KaggleApi.build_kaggle_client_with_params([]).http_client()
    assert after._get_request_url(*METHOD).startswith("https://api.kaggle.com/v1/")


def test_pointed_at_restores_the_table_when_the_block_fails():
    from kagglesdk import kaggle_env

    with pytest.raises(ZeroDivisionError), pointed_at("http://127.0.0.1:9"):
        raise ZeroDivisionError
    assert kaggle_env._env_to_endpoint[kaggle_env.KaggleEnv.PROD] == "https://api.kaggle.com"


def test_a_kagglesdk_without_the_table_is_a_clear_error(monkeypatch):
    from kagglesdk import kaggle_env

    monkeypatch.delattr(kaggle_env, "_env_to_endpoint")
    with pytest.raises(RemoteError, match="kagglesdk==0.1.38"), pointed_at("http://127.0.0.1:9"):
        pass


def test_none_leaves_kaggle_untouched():
    from kagglesdk import kaggle_env

    with pointed_at(None):
        assert kaggle_env._env_to_endpoint[kaggle_env.KaggleEnv.PROD] == "https://api.kaggle.com"


@pytest.mark.parametrize(("given", "expected"), [
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
    ("http://127.0.0.1:8000/api/v1", "http://127.0.0.1:8000"),
    ("https://arena.example.org/v1/", "https://arena.example.org"),
])
def test_endpoints_are_normalised(given, expected):
    assert normalise_endpoint(given) == expected


@pytest.mark.parametrize("bad", ["127.0.0.1:8000", "ftp://host", "http://user:secret@host:1"])
def test_bad_endpoints_are_refused(bad):
    with pytest.raises(InputError):
        normalise_endpoint(bad)


def test_the_option_wins_over_the_environment_which_wins_over_the_configuration(monkeypatch):
    monkeypatch.delenv("PODIUM_KAGGLE_ENDPOINT", raising=False)
    assert resolve_endpoint(None, None) is None
    assert resolve_endpoint(None, "http://c:1") == "http://c:1"
    monkeypatch.setenv("PODIUM_KAGGLE_ENDPOINT", "http://e:1")
    assert resolve_endpoint(None, "http://c:1") == "http://e:1"
    assert resolve_endpoint("http://o:1", "http://c:1") == "http://o:1"
