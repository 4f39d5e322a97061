"""Property-based: whatever an RPC body, path or credential holds, the arena answers it, never with a 500."""

from __future__ import annotations

import json

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.arena.api import ArenaApi

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SERVICE = "competitions.CompetitionApiService"
METHODS = sorted(name for name in dir(ArenaApi) if name[:1].isupper()) + ["NoSuchMethod"]
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30),
                   st.sampled_from(["titanic", "../titanic", "titanic%00", "", "-1", "9" * 30]))
JSON = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner,
                                                                                         max_size=5), max_leaves=15)
FIELDS = ["competitionName", "fileName", "pageSize", "pageToken", "search", "blobFileTokens", "contentLength",
          "submissionDescription", "group", "sortBy", "page"]


def _post(arena, method: str, body: bytes, auth) -> requests.Response:
    response = requests.post(f"{arena.url}/v1/{SERVICE}/{method}", data=body, auth=auth, timeout=20,
                             allow_redirects=False, headers={"Content-Type": "application/json"})
    assert response.status_code < 500, (method, body[:200], response.text[:300])
    if response.status_code >= 400:
        assert response.json()["message"]
    return response


@FAST
@given(method=st.sampled_from(METHODS), body=st.binary(max_size=1500))
def test_any_bytes_to_any_method_are_answered(arena, alice, method, body):
    _post(arena, method, body, ("alice", alice))


@FAST
@given(method=st.sampled_from(METHODS), fields=st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=5))
def test_any_values_in_the_fields_the_methods_read_are_answered(arena, alice, method, fields):
    _post(arena, method, json.dumps(fields).encode(), ("alice", alice))


@FAST
@given(user=st.text(max_size=20), key=st.text(max_size=40))
def test_any_credentials_are_answered(arena, user, key):
    try:
        auth = (user.encode("latin-1"), key.encode("latin-1"))
    except UnicodeEncodeError:
        auth = (user.encode(), key.encode())
    response = _post(arena, "ListCompetitions", b"{}", auth)
    assert response.status_code in (200, 401)
