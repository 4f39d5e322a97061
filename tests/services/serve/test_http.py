"""`podium serve` over real HTTP: concurrent clients get the in-process predictions; bad input gets a 4xx."""

from __future__ import annotations

import http.client
import json
import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import requests

from agent.runtime import load_model

JSON = {"Content-Type": "application/json"}


def test_health_describes_the_model(server, served):
    reply = requests.get(f"{server.url}/health", timeout=10)
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("application/json")
    body = reply.json()
    model = load_model(served.artifact)
    assert body["status"] == "ok" and body["model"] == model.name
    assert [f["name"] for f in body["features"]] == model.schema.input_names  # what callers send
    assert body["prediction_columns"] == ["survived"] and body["id_column"] == "id"
    assert body["request_log"] is False and body["limits"]["max_rows"] == 50


def test_concurrent_clients_get_the_in_process_predictions(server, served):
    """8 threads x 6 requests of 1-7 rows each, in random order, against load_model(...).predict."""
    model = load_model(served.artifact)
    rng = random.Random(0)
    jobs = [(rng.randrange(0, 100), rng.randint(1, 7)) for _ in range(48)]

    def call(job):
        start, n = job
        rows = served.rows(n, start)
        with requests.Session() as session:
            reply = session.post(f"{server.url}/predict", json={"rows": rows}, timeout=30)
        return rows, reply

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(call, jobs))
    for rows, reply in results:
        assert reply.status_code == 200, reply.text
        predictions = reply.json()["predictions"]
        assert [p["id"] for p in predictions] == [row["id"] for row in rows]  # the id column is echoed
        expected = model.predict(rows)
        np.testing.assert_allclose([p["survived"] for p in predictions], expected, rtol=1e-9, atol=1e-12)


def test_a_body_may_be_rows_a_list_or_one_row_and_ids_are_optional(server, served):
    rows = served.rows(2)
    wrapped = requests.post(f"{server.url}/predict", json={"rows": rows}, timeout=10).json()["predictions"]
    bare = requests.post(f"{server.url}/predict", json=rows, timeout=10).json()["predictions"]
    single = requests.post(f"{server.url}/predict", json=rows[0], timeout=10).json()["predictions"]
    assert wrapped == bare and len(single) == 1 and single[0]["id"] == rows[0]["id"]
    np.testing.assert_allclose(single[0]["survived"], wrapped[0]["survived"], rtol=1e-9)
    anonymous = {k: v for k, v in rows[0].items() if k != "id"}
    reply = requests.post(f"{server.url}/predict", json=anonymous, timeout=10).json()
    assert list(reply["predictions"][0]) == ["survived"]


def test_strings_blanks_and_unseen_categories_follow_the_artifact_rules(server, served):
    row = served.rows(1)[0]
    row.update(fare=str(row["fare"]), age="", embarked="Atlantis")
    reply = requests.post(f"{server.url}/predict", json=row, timeout=10)
    assert reply.status_code == 200, reply.text
    assert "'embarked' were never seen in training" in reply.json()["warnings"][0]
    expected = float(load_model(served.artifact).predict(row)[0])
    assert reply.json()["predictions"][0]["survived"] == pytest.approx(expected)


def _damaged(served, change):
    row = served.rows(1)[0]
    change(row)
    return json.dumps({"rows": [row]})


BAD_BODIES = [
    ("malformed JSON", lambda s: '{"rows": [{"pclass": 3,', 400, "not valid JSON"),
    ("NaN literal", lambda s: '[{"age": NaN}]', 400, "NaN is not valid JSON"),
    ("empty body", lambda s: "", 400, "empty"),
    ("no rows", lambda s: '{"rows": []}', 400, "no rows"),
    ("rows not a list", lambda s: '{"rows": 5}', 400, "must be a list"),
    ("a row that is not an object", lambda s: "[1, 2]", 400, "must be a JSON object"),
    ("deep nesting", lambda s: "[" * 20_000 + "]" * 20_000, 400, "JSON"),
    ("missing column", lambda s: _damaged(s, lambda r: r.pop("sex")), 422, "missing column(s) ['sex']"),
    ("string in a numeric column", lambda s: _damaged(s, lambda r: r.update(age="old")), 422,
     "column 'age': expects a number, got the string 'old'"),
    ("nested object as a value", lambda s: _damaged(s, lambda r: r.update(fare={"amount": 7})), 422,
     "column 'fare': nested JSON"),
    ("list as a value", lambda s: _damaged(s, lambda r: r.update(sex=["male"])), 422, "column 'sex': nested JSON"),
    ("number too large", lambda s: _damaged(s, lambda r: r.update(age=10**400)), 422, "too large"),
    ("too many rows", lambda s: json.dumps(s.rows(51)), 413, "at most 50"),
    ("oversize body", lambda s: json.dumps({"rows": s.rows(1), "pad": "x" * 100_000}), 413, "at most 64,000"),
]


@pytest.mark.parametrize("name, body, status, message", BAD_BODIES, ids=[case[0] for case in BAD_BODIES])
def test_bad_input_gets_a_helpful_4xx_never_a_500(server, served, name, body, status, message):
    reply = requests.post(f"{server.url}/predict", data=body(served).encode(), headers=JSON, timeout=30)
    assert reply.status_code == status, reply.text
    error = reply.json()
    assert message in error["error"] + " ".join(error["details"]), error
    assert error.get("fix")


def test_content_type_and_length_are_checked(server, served):
    body = json.dumps(served.rows(1))
    assert requests.post(f"{server.url}/predict", data=body, headers={"Content-Type": "text/plain"},
                         timeout=10).status_code == 415
    assert requests.post(f"{server.url}/predict", data=body, timeout=10).status_code == 415  # none sent
    chunked = requests.post(f"{server.url}/predict", data=iter([body.encode()]), headers=JSON, timeout=10)
    assert chunked.status_code == 411 and "Chunked" in chunked.json()["error"]
    host, port = server.server_address[:2]
    for length, status in ((None, 411), ("abc", 400), ("-5", 400)):
        connection = http.client.HTTPConnection(host, port, timeout=10)
        connection.putrequest("POST", "/predict")
        connection.putheader("Content-Type", "application/json")
        if length is not None:
            connection.putheader("Content-Length", length)
        connection.endheaders()
        reply = connection.getresponse()
        assert reply.status == status and "Content-Length" in json.loads(reply.read())["error"]
        connection.close()


def test_unknown_paths_404_and_wrong_methods_405(server):
    missing = requests.get(f"{server.url}/nope", timeout=10)
    assert missing.status_code == 404 and "No such endpoint" in missing.json()["error"]
    for method, path in (("GET", "/predict"), ("PUT", "/predict"), ("DELETE", "/predict"), ("POST", "/health")):
        reply = requests.request(method, f"{server.url}{path}", timeout=10)
        assert reply.status_code == 405 and reply.headers["Allow"] in ("GET", "POST"), (method, path)
        assert "not allowed" in reply.json()["error"]
    head = requests.head(f"{server.url}/health", timeout=10)
    assert head.status_code == 200 and head.content == b""
    odd = requests.request("BREW", f"{server.url}/predict", timeout=10)  # the standard library's own error, as JSON
    assert odd.status_code == 501 and odd.json()["error"]


def _drip(server, chunks: list[bytes], gap: float) -> tuple[bytes, float]:
    """Send `chunks` one per `gap` seconds, as a slow or hostile client; return the answer and when it came."""
    import socket
    import time

    host, port = server.server_address[:2]
    started = time.monotonic()
    with socket.create_connection((host, port), timeout=20) as conn:
        try:
            for chunk in chunks:
                conn.sendall(chunk)
                time.sleep(gap)
        except OSError:  # the server cut the connection off
            pass
        conn.settimeout(20)
        answer = b""
        while piece := conn.recv(4096):
            answer += piece
    return answer, time.monotonic() - started


@pytest.mark.parametrize("where", ["body", "headers", "request line"])
def test_a_client_dripping_bytes_is_cut_off_at_the_whole_request_deadline(served, where):
    from agent.config import ServeSettings
    from tests.services.serve.conftest import LIMITS, _running

    body = json.dumps({"rows": served.rows(1)}).encode()
    head = f"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    # each byte comes well inside the per-read timeout (10 s), so only the whole-request deadline can stop it
    first_line = head.index("\r\n") + 2
    if where == "body":
        chunks = [head.encode()] + [body[i:i + 1] for i in range(len(body))]
    elif where == "headers":
        chunks = [head[:first_line].encode()] + [head[i:i + 1].encode() for i in range(first_line, len(head))]
        chunks.append(body)
    else:
        chunks = [head[i:i + 1].encode() for i in range(len(head))] + [body]
    from tests.services.serve.test_web_stack import _count, _samples

    settings = ServeSettings(port=0, **{**LIMITS, "timeout": 10}, request_deadline=1.5)
    for server in _running(served.artifact, settings):
        answer, seconds = _drip(server, chunks, gap=0.2)
        assert answer.startswith(b"HTTP/1.") and b" 408 " in answer.split(b"\r\n")[0], answer[:200]
        assert b"did not arrive within 1.5 seconds" in answer
        assert seconds < 1.5 + 2.5 < len(chunks) * 0.2  # cut off near the deadline, long before the drip ends
        assert requests.get(f"{server.url}/health", timeout=10).ok  # the server goes on serving
        samples = _samples(server.url)  # counted once, under the route when the app had the request
        route = "/predict" if where == "body" else "other"
        assert _count(samples, "podium_serve_requests_total", route=route, status="408") == 1
        assert _count(samples, "podium_serve_requests_total", status="400") == 0


def send_head(address: tuple[str, int], head: bytes, chunk: int = 1 << 16) -> bytes:
    """Send a request head piece by piece as a client that ignores the server; return the server's answer."""
    import select
    import socket

    with socket.create_connection(address[:2], timeout=20) as conn:
        for start in range(0, len(head), chunk):
            if select.select([conn], [], [], 0)[0]:
                break  # the server answered: stop sending, as a browser would
            try:
                conn.sendall(head[start:start + chunk])
            except OSError:  # the server cut the connection off
                break
        answer = b""
        try:
            while piece := conn.recv(4096):
                answer += piece
        except ConnectionResetError:
            pass
    return answer


def huge_header(size: int) -> bytes:
    return b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * size + b"\r\n\r\n"


MANY_HEADERS = b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(150)) + b"\r\n"


@pytest.mark.parametrize("head, message", [(huge_header(8 << 20), b"larger than 65,536 bytes"),
                                           (MANY_HEADERS, b"more than 100 headers")])
def test_a_request_head_over_the_limits_gets_431_and_is_counted(server, head, message):
    from tests.services.serve.test_web_stack import _count, _samples

    before = _count(_samples(server.url), "podium_serve_requests_total", route="other", status="431")
    answer = send_head(server.server_address, head)
    assert answer.split(b"\r\n")[0].endswith(b" 431 Request Header Fields Too Large"), answer[:300]
    assert message in answer and b'"fix"' in answer
    after = _count(_samples(server.url), "podium_serve_requests_total", route="other", status="431")
    assert after - before == 1
    assert requests.get(f"{server.url}/health", headers={"X-Fine": "b" * 8000}, timeout=10).ok
