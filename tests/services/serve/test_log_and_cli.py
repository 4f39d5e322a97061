"""The request log (off by default, readable by `podium monitor`), and `podium serve` as a process."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from typer.testing import CliRunner

from agent.config import ServeSettings, load_settings
from agent.services.serve import PredictionService, Stopper, run_server
from cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_the_request_log_is_off_by_default(served, tmp_path, monkeypatch):
    assert ServeSettings().request_log is None and load_settings().serve.request_log is None
    monkeypatch.chdir(tmp_path)
    service = PredictionService.load(served.artifact, load_settings().serve)
    service.predict_body(json.dumps(served.rows(3)).encode())
    assert service.request_log is None and list(tmp_path.iterdir()) == []


def test_the_request_log_holds_every_request_and_podium_monitor_reads_it(logged_server, served, tmp_path):
    log_file = Path(logged_server.service.settings.request_log)

    def call(start: int) -> int:
        rows = [{**row, "secret": "not for the log"} for row in served.rows(3, start)]
        return requests.post(f"{logged_server.url}/predict", json={"rows": rows}, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(call, range(0, 120, 3))) == {200}
    bad = requests.post(f"{logged_server.url}/predict", json={"rows": [{"age": "old"}]}, timeout=10)
    assert bad.status_code == 422  # rejected input is not logged

    lines = log_file.read_text().splitlines()
    assert len(lines) == 40  # one whole line per request, none interleaved
    records = [json.loads(line) for line in lines]
    assert all(set(r) == {"time", "rows"} and len(r["rows"]) == 3 for r in records)
    assert all("secret" not in row for r in records for row in r["rows"])  # only the model's columns (and id)
    assert sorted(row["id"] for r in records for row in r["rows"]) == sorted(served.corpus.test["id"][:120])

    out = tmp_path / "drift"
    result = CliRunner().invoke(app, ["monitor", str(served.artifact), str(log_file), "--out", str(out)])
    assert result.exit_code in (0, 1), result.output  # 0 no drift, 1 drift: either way the log was read
    assert json.loads((out / "drift.json").read_text())["rows"] == 120


def _serve_in_a_thread(served):
    """run_server on a thread, as an embedding program would: its stopper, thread, URL and return value."""
    stopper, started, answered, urls = Stopper(), threading.Event(), [], []

    def ready(listening) -> None:
        urls.append(listening.url)
        started.set()

    thread = threading.Thread(daemon=True, target=lambda: answered.append(
        run_server(served.artifact, ServeSettings(port=0), ready=ready, stopper=stopper)))
    thread.start()
    assert started.wait(30)
    return stopper, thread, urls, answered


def test_run_server_stops_cleanly_when_asked(served):
    stopper, thread, urls, answered = _serve_in_a_thread(served)
    assert requests.post(f"{urls[0]}/predict", json=served.rows(2), timeout=10).status_code == 200
    stopper.stop()
    thread.join(timeout=10)
    assert not thread.is_alive() and answered == [1]  # one prediction request answered, then a clean return
    try:
        requests.get(f"{urls[0]}/health", timeout=2)
        raise AssertionError("the server still answers after stopping")
    except requests.ConnectionError:
        pass


def test_podium_serve_runs_as_a_process_and_exits_0_on_sigterm(served):
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    process = subprocess.Popen([sys.executable, "-c", "from cli import main; main()", "serve", str(served.artifact),
                                "--port", "0"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match, line + process.stderr.read()
        health = requests.get(f"{match.group(0)}/health", timeout=10).json()
        assert health["status"] == "ok"
        assert requests.post(f"{match.group(0)}/predict", json=served.rows(1), timeout=10).status_code == 200
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "stopped after 1 prediction request" in out


def test_bad_artifact_or_options_exit_2(tmp_path, served):
    runner = CliRunner()
    result = runner.invoke(app, ["serve", str(tmp_path), "--port", "0"])
    assert result.exit_code == 2 and "not a podium production artifact" in " ".join(result.output.split())
    result = runner.invoke(app, ["serve", str(served.artifact), "--port", "70000"])
    assert result.exit_code == 2 and "port" in result.output


def test_a_stop_lets_the_request_in_flight_finish_and_refuses_new_ones(served):
    import socket
    import time

    stopper, thread, urls, answered = _serve_in_a_thread(served)
    host, port = urls[0].removeprefix("http://").split(":")
    body = json.dumps({"rows": served.rows(2)}).encode()
    head = (f"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection((host, int(port)), timeout=20) as conn:
        conn.sendall(head + body[:10])  # in flight: headers and part of the body
        time.sleep(0.3)
        stopper.stop()
        time.sleep(0.5)
        try:  # the stopped server takes no new connections ...
            socket.create_connection((host, int(port)), timeout=2).close()
            raise AssertionError("a new connection was accepted after the stop")
        except OSError:
            pass
        conn.sendall(body[10:])  # ... but answers the request it had begun
        answer = b""
        while piece := conn.recv(65536):
            answer += piece
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    assert len(json.loads(answer.split(b"\r\n\r\n", 1)[1])["predictions"]) == 2
    thread.join(timeout=30)
    assert not thread.is_alive() and answered == [1]
