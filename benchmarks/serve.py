"""`podium serve` under load: the standard-library server of --baseline-ref against the current one, side by side.

    .venv/bin/python benchmarks/serve.py                          # newest runs/*/*/production, 2 rounds of 8 s
    .venv/bin/python benchmarks/serve.py --seconds 5 --rounds 3 --artifact runs/titanic/RUN_ID/production \
        --rows-csv path/to/test.csv --records /tmp/serve.jsonl

Servers, each `podium serve ARTIFACT --port 0` in a process of its own: the baseline from a git worktree of
--baseline-ref (the last commit on `http.server`: one process, threads), the current one with `--workers 1` and
`--workers 2`. The order of the three is rotated every round, so all see the same machine. For each server,
for 1 and 8 clients, for 1-row and 100-row requests: a load process (asyncio with uvloop, one connection per
client, each client sending its next request when the last is answered: keep-alive where the server allows it,
a new connection per request where it does not, as a real client would) runs --seconds after a 1 s warm-up and
reports every answered request's latency. Printed: p50 and p99 ms and requests/s per cell, each server beside
the baseline, with the spread across rounds; raw records appended to --records. The load process shares the
2 cores with the servers: the figures are what one machine does, client included.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "benchmarks" / "results" / "serve.jsonl"
BASELINE_REF = "a09416a"  # the last commit whose `podium serve` is the standard library's ThreadingHTTPServer
CLIENTS, ROWS = (1, 8), (1, 100)
WARMUP_S = 1.0


# --- the load process ----------------------------------------------------------------------------------------

async def _client(host: str, port: int, request: bytes, start_at: float, stop_at: float,
                  latencies: list[float], errors: list[int]) -> None:
    reader = writer = None
    while (now := time.perf_counter()) < stop_at:
        if writer is None:
            reader, writer = await asyncio.open_connection(host, port)
        writer.write(request)
        status_line = await reader.readline()
        length, close = 0, status_line.startswith(b"HTTP/1.0")
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value == b"close"
        await reader.readexactly(length)
        if now >= start_at:
            (latencies.append(time.perf_counter() - now) if b" 200 " in status_line
             else errors.append(int(status_line.split()[1])))
        if close:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


async def _load(url: str, body: bytes, clients: int, seconds: float) -> dict:
    host, port = re.match(r"http://([^:/]+):(\d+)", url).groups()
    request = (f"POST /predict HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    start_at = time.perf_counter() + WARMUP_S
    stop_at = start_at + seconds
    latencies: list[float] = []
    errors: list[int] = []
    await asyncio.gather(*(_client(host, int(port), request, start_at, stop_at, latencies, errors)
                           for _ in range(clients)))
    latencies.sort()
    return {"requests": len(latencies), "errors": len(errors), "rps": len(latencies) / seconds,
            "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else None}


def load_main(url: str, body_file: str, clients: int, seconds: float) -> None:
    import uvloop

    print(json.dumps(uvloop.run(_load(url, Path(body_file).read_bytes(), clients, seconds))))


# --- servers and rounds --------------------------------------------------------------------------------------

def start_server(artifact: Path, cwd: Path, workers: int | None) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-c", "from cli import main; main()", "serve", str(artifact), "--port", "0"]
    if workers:
        command += ["--workers", str(workers)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "300", "PYTHONPATH": str(cwd)}
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", line)
    if not match:
        process.kill()
        raise SystemExit(f"the server did not start: {line}{process.stderr.read()[-2000:]}")
    return process, match.group(0)


def stop_server(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()


def run_load(url: str, body_file: Path, clients: int, seconds: float) -> dict:
    out = subprocess.run([sys.executable, __file__, "--load", url, "--body-file", str(body_file), "--clients",
                          str(clients), "--seconds", str(seconds)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def request_bodies(artifact: Path, folder: Path, rows_csv: Path | None) -> dict[int, Path]:
    """JSON bodies of 1 and 100 rows: rows of --rows-csv (say the competition's test.csv), else rows drawn from
    the artifact's schema.json (numbers within the training range, categories seen in training; seed 0)."""
    import numpy as np
    import pandas as pd

    from agent.runtime import load_model

    schema = load_model(artifact).schema
    if rows_csv is not None:
        sample = pd.read_csv(rows_csv, nrows=max(ROWS))[schema.names]
    else:
        rng = np.random.default_rng(0)
        sample = pd.DataFrame({c.name: (rng.uniform(c.min, c.max, max(ROWS)) if c.kind == "numeric"
                                        else rng.choice(list(c.categories) or ["x"], max(ROWS)))
                               for c in schema.columns})
    bodies = {}
    for rows in ROWS:
        path = folder / f"rows-{rows}.json"
        path.write_text(json.dumps({"rows": json.loads(sample.head(rows).to_json(orient="records"))}))
        bodies[rows] = path
    return bodies


def newest_artifact() -> Path:
    found = sorted((ROOT / "runs").glob("*/*/production/schema.json"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise SystemExit("no production artifact under runs/: run `make run` first, or pass --artifact")
    return found[-1].parent


def baseline_worktree(ref: str, folder: Path) -> Path:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(folder), ref], check=True,
                   capture_output=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--artifact", type=Path)
    parser.add_argument("--rows-csv", type=Path, help="input rows for the requests (default: drawn from schema.json)")
    parser.add_argument("--baseline-ref", default=BASELINE_REF)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--records", type=Path, default=RECORDS)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--body-file", help=argparse.SUPPRESS)
    parser.add_argument("--clients", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        load_main(args.load, args.body_file, args.clients, args.seconds)
        return

    sys.path.insert(0, str(ROOT))
    artifact = (args.artifact or newest_artifact()).resolve()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    servers = [("baseline", None), ("workers=1", 1), ("workers=2", 2)]
    results: dict[tuple[str, int, int], list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="podium-serve-bench-") as tmp:
        folder = Path(tmp)
        bodies = request_bodies(artifact, folder, args.rows_csv)
        old = baseline_worktree(args.baseline_ref, folder / "baseline")
        try:
            for round_ in range(args.rounds):
                for name, workers in servers[round_ % 3:] + servers[:round_ % 3]:
                    process, url = start_server(artifact, old if name == "baseline" else ROOT, workers)
                    try:
                        for clients in CLIENTS:
                            for rows in ROWS:
                                figures = run_load(url, bodies[rows], clients, args.seconds)
                                record = {"time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                                          "commit": commit, "baseline_ref": args.baseline_ref, "server": name,
                                          "round": round_, "clients": clients, "rows": rows,
                                          "seconds": args.seconds, "artifact": str(artifact), "cpus": os.cpu_count(),
                                          **figures}
                                results.setdefault((name, clients, rows), []).append(record)
                                args.records.parent.mkdir(parents=True, exist_ok=True)
                                with args.records.open("a") as handle:
                                    handle.write(json.dumps(record) + "\n")
                                print(f"round {round_} {name:10s} clients={clients} rows={rows:3d}: "
                                      f"{figures['rps']:8.0f} req/s  p50 {figures['p50_ms']:.2f} ms  "
                                      f"p99 {figures['p99_ms']:.2f} ms  errors {figures['errors']}", flush=True)
                    finally:
                        stop_server(process)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], capture_output=True)
    print_table(results, [name for name, _ in servers])


def _spread(values: list[float]) -> str:
    middle = statistics.median(values)
    return f"{middle:.0f}" if len(values) < 2 else f"{middle:.0f} ±{(max(values) - min(values)) / 2:.0f}"


def print_table(results: dict, names: list[str]) -> None:
    print(f"\n{'clients':>7} {'rows':>4}  " + "  ".join(f"{n:>28}" for n in names) + "   speed-up vs baseline")
    print(f"{'':>13}" + "  ".join(f"{'req/s  p50 ms  p99 ms':>28}" for _ in names))
    for clients in CLIENTS:
        for rows in ROWS:
            cells, rates = [], []
            for name in names:
                runs = results[(name, clients, rows)]
                rates.append(statistics.median(r["rps"] for r in runs))
                p50 = statistics.median(r["p50_ms"] for r in runs)
                p99 = statistics.median(r["p99_ms"] for r in runs)
                cells.append(f"{_spread([r['rps'] for r in runs]):>12} {p50:7.2f} {p99:7.2f}")
            gains = " ".join(f"{rate / rates[0]:.1f}x" for rate in rates[1:])
            print(f"{clients:>7} {rows:>4}  " + "  ".join(f"{c:>28}" for c in cells) + f"   {gains}")


if __name__ == "__main__":
    main()
