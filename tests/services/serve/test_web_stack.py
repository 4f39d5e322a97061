"""What the web stack adds to `podium serve`: an OpenAPI schema of the real input, /docs offline, /metrics, and
`--workers` processes that share one port, one request log and one set of metrics."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from agent.runtime import load_model
from agent.runtime.schema import NUMERIC

ROOT = Path(__file__).resolve().parents[2]


def _openapi_validator(document: dict, name: str) -> jsonschema.Draft202012Validator:
    """A validator for one component of the document, its references resolved inside the document."""
    schema = {**document["components"]["schemas"][name], "components": document["components"]}
    return jsonschema.Draft202012Validator(schema)


def test_openapi_documents_the_artifacts_real_input(server, served):
    document = requests.get(f"{server.url}/openapi.json", timeout=10).json()
    model = load_model(served.artifact)
    row = document["components"]["schemas"]["Row"]
    sent = model.schema.input_names  # what callers send: a text column, not the words read from it
    assert set(sent) <= set(row["properties"]) and set(row["required"]) == set(sent)
    for column in (c for c in model.schema.columns if c.name in sent):
        described = json.dumps(row["properties"][column.name])
        if column.kind == NUMERIC:
            assert '"number"' in described, column.name
        elif column.categories_complete:
            assert all(category in described for category in column.categories[:5]), column.name
    body = document["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"$ref": "#/components/schemas/PredictRequest"} in body["anyOf"]
    answers = document["paths"]["/predict"]["post"]["responses"]
    assert {"200", "400", "413", "415", "422"} <= set(answers)
    prediction = document["components"]["schemas"]["Prediction"]["properties"]
    assert set(prediction) == {"survived", "id"}

    validator = _openapi_validator(document, "PredictRequest")
    rows = served.rows(3)
    validator.validate({"rows": rows})  # what the server accepts, the schema accepts
    assert requests.post(f"{server.url}/predict", json={"rows": rows}, timeout=10).status_code == 200
    broken = [{k: v for k, v in rows[0].items() if k != "sex"}]
    assert list(validator.iter_errors({"rows": broken}))  # and what it refuses for a missing column, too
    assert requests.post(f"{server.url}/predict", json={"rows": broken}, timeout=10).status_code == 422


def test_docs_page_works_offline(server):
    page = requests.get(f"{server.url}/docs", timeout=10)
    assert page.status_code == 200 and "swagger" in page.text.lower()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page.text)
    assert assets and not [a for a in assets if a.startswith(("http://", "https://", "//"))], assets
    for asset in assets:
        assert requests.get(f"{server.url}{asset}", timeout=10).status_code == 200, asset


def _samples(url: str) -> dict[tuple[str, tuple], float]:
    text = requests.get(f"{url}/metrics", timeout=10).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _count(samples: dict, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


def test_metrics_count_requests_errors_latency_rows_and_the_log(logged_server, served):
    url = logged_server.url
    before = _samples(url)
    sizes = [1, 3, 5, 2]
    for n in sizes:
        assert requests.post(f"{url}/predict", json=served.rows(n), timeout=10).status_code == 200
    assert requests.post(f"{url}/predict", data=b"{", headers={"Content-Type": "application/json"},
                         timeout=10).status_code == 400
    assert requests.get(f"{url}/nowhere", timeout=10).status_code == 404
    after = _samples(url)

    def grew(name: str, **labels: str) -> float:
        return _count(after, name, **labels) - _count(before, name, **labels)

    assert grew("podium_serve_requests_total", route="/predict", status="200") == len(sizes)
    assert grew("podium_serve_requests_total", route="/predict", status="400") == 1
    assert grew("podium_serve_requests_total", route="other", status="404") == 1
    assert grew("podium_serve_predicted_rows_total") == sum(sizes)
    assert grew("podium_serve_request_seconds_count", route="/predict") == len(sizes) + 1
    assert 0 < grew("podium_serve_request_seconds_sum", route="/predict") < 10
    log_file = Path(logged_server.service.settings.request_log)
    assert _count(after, "podium_serve_request_log_bytes") == log_file.stat().st_size > 0


def _start(served, *options: str) -> tuple[subprocess.Popen, str, str]:
    """`podium serve` as a process: the process, its URL and the line it printed when ready."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "250"}
    process = subprocess.Popen([sys.executable, "-c", "from cli import main; main()", "serve", str(served.artifact),
                                "--port", "0", *options], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", line)
    if not match:
        process.kill()
        pytest.fail(line + process.stderr.read())
    return process, match.group(0), line


def _stop(process: subprocess.Popen) -> tuple[str, str]:
    process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()


def test_workers_share_the_port_the_request_log_and_the_metrics(served, tmp_path):
    log_file = tmp_path / "requests.jsonl"
    process, url, started = _start(served, "--workers", "2", "--request-log", str(log_file))
    model = load_model(served.artifact)
    try:
        def call(start: int) -> tuple[list[dict], dict]:
            rows = served.rows(2, start)
            return rows, requests.post(f"{url}/predict", json={"rows": rows}, timeout=30).json()

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(call, range(0, 120, 2)))
        for rows, answer in results:  # every worker serves the same model
            np.testing.assert_allclose([p["survived"] for p in answer["predictions"]], model.predict(rows),
                                       rtol=1e-9, atol=1e-12)
        with ThreadPoolExecutor(max_workers=8) as pool:  # concurrent clients, so both processes accept some
            pids = set(pool.map(lambda _: requests.get(f"{url}/health", timeout=10).json()["pid"], range(200)))
        samples = _samples(url)
    finally:
        out, err = _stop(process)
    assert len(pids) == 2, pids  # two processes answered
    assert _count(samples, "podium_serve_requests_total", route="/predict", status="200") == 60  # all workers
    assert process.returncode == 0, err
    assert "2 workers" in started and "stopped after 60 prediction request(s)" in out
    lines = log_file.read_text().splitlines()
    assert len(lines) == 60 and all(len(json.loads(line)["rows"]) == 2 for line in lines)  # none interleaved


def test_ray_serve_replicas_answer_like_the_local_server(served):
    process, url, started = _start(served, "--ray-address", "local", "--replicas", "2")
    model = load_model(served.artifact)
    try:
        rows = served.rows(5)
        answer = requests.post(f"{url}/predict", json={"rows": rows}, timeout=30)
        assert answer.status_code == 200, answer.text
        np.testing.assert_allclose([p["survived"] for p in answer.json()["predictions"]], model.predict(rows),
                                   rtol=1e-9, atol=1e-12)
        bad = requests.post(f"{url}/predict", json={"rows": [{"age": "old"}]}, timeout=30)
        assert bad.status_code == 422 and bad.json()["fix"]  # the same checks and error bodies
        pids = {requests.get(f"{url}/health", timeout=10).json()["pid"] for _ in range(30)}
        assert len(pids) == 2, pids
    finally:
        out, err = _stop(process)
    assert process.returncode == 0, err[-3000:]
    assert "2 replicas" in started and "stopped" in out


def test_replica_bounds_are_checked_and_map_to_ray_serve_options():
    from agent.config import ServeSettings
    from agent.services.serve.ray_serve import deployment_options

    assert deployment_options(ServeSettings(replicas=3))["num_replicas"] == 3
    scaling = deployment_options(ServeSettings(replicas=1, max_replicas=4, target_ongoing_requests=5))
    assert "num_replicas" not in scaling
    assert scaling["autoscaling_config"] == {"min_replicas": 1, "max_replicas": 4, "initial_replicas": 1,
                                             "target_ongoing_requests": 5}
    with pytest.raises(ValueError, match="max_replicas"):
        ServeSettings(replicas=3, max_replicas=2)


def test_a_100_mb_header_line_is_refused_without_the_process_growing(served):
    import psutil

    from tests.services.serve.test_http import huge_header, send_head

    process, url, _ = _start(served)
    try:
        server = psutil.Process(process.pid)
        assert requests.get(f"{url}/health", timeout=10).ok
        before = server.memory_info().rss
        host, port = url.removeprefix("http://").split(":")
        for _ in range(3):  # uvicorn alone grew about 170 MB per such connection
            answer = send_head((host, int(port)), huge_header(100 << 20))
            assert b" 431 " in answer.split(b"\r\n")[0], answer[:300]
        grown = server.memory_info().rss - before
        assert grown < 30 * 2**20, f"the server grew by {grown / 2**20:.0f} MB"
        assert requests.get(f"{url}/health", timeout=10).ok
        assert _count(_samples(url), "podium_serve_requests_total", route="other", status="431") == 3
    finally:
        _stop(process)
