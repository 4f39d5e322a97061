"""Never a 500 for bad input: random bodies and random values in every column get a 200 or a 4xx."""

from __future__ import annotations

import json
import random

import pytest

from agent.config import ServeSettings
from agent.runtime import load_model
from agent.services.serve import PredictionService, RequestError

VALUES = [None, "", " ", "0", "1e5", " 7 ", "0x10", "nan", "NaN", "inf", "-Infinity", "old", "Atlantis", "é🚢",
          "x" * 5000, True, False, 0, -0.0, 1, -1, 3.5, 1e308, -1e308, 10**30, 10**400, [], [1], {}, {"a": 1},
          [[["deep"]]]]


@pytest.fixture(scope="module")
def service(served):
    return PredictionService(load_model(served.artifact), ServeSettings(max_rows=20))


def test_random_values_in_every_column_never_raise_anything_but_request_errors(service, served):
    rng = random.Random(0)
    base = served.rows(20)
    outcomes = {"ok": 0, "4xx": 0}
    for _ in range(300):
        rows = [dict(row) for row in rng.sample(base, rng.randint(1, 5))]
        for row in rows:
            for column in rng.sample(list(row), rng.randint(1, 4)):
                if rng.random() < 0.1:
                    row.pop(column)
                else:
                    row[column] = rng.choice(VALUES)
        try:
            response = service.predict_body(json.dumps({"rows": rows}).encode())
        except RequestError as error:
            assert 400 <= error.status < 500 and error.message and error.fix
            outcomes["4xx"] += 1
        else:
            assert len(response["predictions"]) == len(rows)
            json.dumps(response, allow_nan=False)
            outcomes["ok"] += 1
    assert outcomes["ok"] > 20 and outcomes["4xx"] > 20  # both paths were exercised


@pytest.mark.parametrize("body", [b"\xff\xfe", b"null", b"42", b'"rows"', b"{}", b'{"rows": [{}]}', b"[[]]",
                                  b'{"rows": [null]}', b"[" * 100_000])
def test_odd_bodies_are_4xx(service, body):
    with pytest.raises(RequestError) as caught:
        service.predict_body(body)
    assert 400 <= caught.value.status < 500


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), "inf", "-Infinity", "1e999"])
def test_infinity_gets_one_rule_in_serve_and_in_load_model(service, served, value):
    from agent.errors import InputError

    row = served.rows(1)[0]
    numeric = next(c.name for c in service.model.schema.columns if c.kind == "numeric")
    row[numeric] = value
    with pytest.raises(InputError, match="infinite"):
        load_model(served.artifact).predict(row)
    body = json.dumps({"rows": [{**row, numeric: value if isinstance(value, str) else "inf"}]}).encode()
    with pytest.raises(RequestError) as caught:
        service.predict_body(body)
    assert caught.value.status == 422 and "infinite" in " ".join(caught.value.details)


# --- property-based: any body, any JSON ---------------------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FAST = settings(max_examples=200, deadline=None)
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
JSON = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                         max_size=4), max_leaves=20)


def _answer(service, body: bytes) -> None:
    try:
        response = service.predict_body(body)
    except RequestError as error:
        assert 400 <= error.status < 500 and error.message and error.fix
    else:
        json.dumps(response, allow_nan=False)


@FAST
@given(body=st.binary(max_size=2000))
def test_any_bytes_are_answered_with_predictions_or_a_4xx(service, body):
    _answer(service, body)


@FAST
@given(payload=JSON)
def test_any_json_value_is_answered_with_predictions_or_a_4xx(service, payload):
    _answer(service, json.dumps(payload).encode())


@FAST
@given(data=st.data())
def test_real_rows_with_any_values_are_answered_with_predictions_or_a_4xx(service, served, data):
    rows = served.rows(3)
    for row in rows:
        for column in data.draw(st.lists(st.sampled_from(sorted(row)), max_size=4, unique=True)):
            row[column] = data.draw(JSON)
    _answer(service, json.dumps({"rows": rows}).encode())
