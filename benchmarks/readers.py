"""Reading one table of 1M rows x 30 columns from CSV, Parquet, PostgreSQL, DuckDB and SQLite: seconds and peak
memory of each reader, the database drivers beside `pandas.read_sql` (the baseline), in one run.

    .venv/bin/python benchmarks/readers.py                     # 1M rows, 2 rounds, every reader
    .venv/bin/python benchmarks/readers.py --rows 200000 --rounds 1 --readers podium:parquet adbc:postgresql

Why: podium reads a competition wherever it lives (agent/tables); the database drivers were chosen on these
figures (docs/running.md). The table is built once: in a PostgreSQL server of the machine's own binaries
(tests/postgres.py, in a temporary folder, stopped at the end), then copied to a DuckDB file, a SQLite file, a CSV
and a Parquet file. Its columns: 10 bigint, 10 double precision, 5 text of 50 values, 3 timestamps, 2 integers
with 10% missing. Each reader runs in a process of its own (so peak memory is its own: the child's maximum
resident size less what it held after importing), the order rotated every round; every reader returns a pandas
DataFrame. Printed: median seconds and peak MB per reader; raw records appended to
benchmarks/results/readers.jsonl.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RECORDS = ROOT / "benchmarks" / "results" / "readers.jsonl"
QUERY = "SELECT * FROM bench"

COLUMNS = ", ".join(
    [f"(g * {i + 7}) % 1000003 AS int_{i}" for i in range(10)]
    + [f"sin(g * {i + 1}.0) * 1000 AS real_{i}" for i in range(10)]
    + [f"'cat_' || ((g * {i + 3}) % 50) AS text_{i}" for i in range(5)]
    + [f"TIMESTAMP '2020-01-01' + (g % 100000) * INTERVAL '{i + 1} minute' AS time_{i}" for i in range(3)]
    + [f"CASE WHEN g % 10 = {i} THEN NULL ELSE g % 1000 END::int AS gap_{i}" for i in range(2)])


def build(folder: Path, rows: int):
    """The table in a fresh PostgreSQL server, and the same rows in every other format; the server."""
    from tests.postgres import PostgresServer

    server = PostgresServer.start()
    try:
        fill(server, folder, rows)
    except BaseException:
        server.stop()
        raise
    return server


def fill(server, folder: Path, rows: int) -> None:
    server.sql(f"CREATE TABLE bench AS SELECT {COLUMNS} FROM generate_series(1, {rows}) AS g")
    import adbc_driver_postgresql.dbapi as adbc
    import duckdb
    import pyarrow.parquet as pq

    with adbc.connect(server.url) as connection, connection.cursor() as cursor:
        cursor.execute(QUERY)
        table = cursor.fetch_arrow_table()
    frame = table.to_pandas()
    frame.to_csv(folder / "bench.csv", index=False)
    pq.write_table(table, folder / "bench.parquet")
    with duckdb.connect(str(folder / "bench.duckdb")) as duck:
        duck.register("source", table)
        duck.execute("CREATE TABLE bench AS SELECT * FROM source")
    import adbc_driver_sqlite.dbapi as lite

    with lite.connect(str(folder / "bench.sqlite")) as connection, connection.cursor() as cursor:
        cursor.adbc_ingest("bench", table, mode="create")
        connection.commit()


# Each reader: (format, how) -> code run in the child, given `path` (a folder) and `url` (PostgreSQL's).
READERS = {
    "podium:csv": "from agent.tables import read_table; frame = read_table(path / 'bench.csv', 'bench')",
    "podium:parquet": "from agent.tables import read_table; frame = read_table(path / 'bench.parquet', 'bench')",
    "podium:postgresql": "from agent.tables import read_table; frame = read_table(url + '#bench', 'bench')",
    "podium:duckdb": "from agent.tables import read_table; "
                     "frame = read_table(f'duckdb:///{path}/bench.duckdb#bench', 'bench')",
    "podium:sqlite": "from agent.tables import read_table; "
                     "frame = read_table(f'sqlite:///{path}/bench.sqlite#bench', 'bench')",
    "pandas:read_csv": "import pandas as pd; frame = pd.read_csv(path / 'bench.csv', low_memory=False)",
    "adbc:postgresql": "import adbc_driver_postgresql.dbapi as d\n"
                       "with d.connect(url) as c, c.cursor() as k:\n"
                       "    k.execute(QUERY); frame = k.fetch_record_batch().read_all().to_pandas()",
    "connectorx:postgresql": "import connectorx as cx; frame = cx.read_sql(url, QUERY, return_type='arrow')"
                             ".to_pandas()",
    "psycopg:postgresql": "import psycopg\n"
                          "with psycopg.connect(url) as c, c.cursor() as k:\n"
                          "    k.execute(QUERY); import pandas as pd\n"
                          "    frame = pd.DataFrame(k.fetchall(), columns=[d.name for d in k.description])",
    "pandas.read_sql:postgresql": "import pandas as pd, sqlalchemy as sa\n"
                                  "engine = sa.create_engine(url.replace('postgresql://', 'postgresql+psycopg://'))\n"
                                  "with engine.connect() as c: frame = pd.read_sql(QUERY, c)",
    "duckdb:duckdb": "import duckdb\n"
                     "with duckdb.connect(str(path / 'bench.duckdb'), read_only=True) as c:\n"
                     "    frame = c.execute(QUERY).to_arrow_reader().read_all().to_pandas()",
    "pandas.read_sql:duckdb": "import duckdb, pandas as pd, warnings; warnings.simplefilter('ignore')\n"
                              "with duckdb.connect(str(path / 'bench.duckdb'), read_only=True) as c:\n"
                              "    frame = pd.read_sql(QUERY, c)",
    "adbc:sqlite": "import adbc_driver_sqlite.dbapi as d\n"
                   "with d.connect(str(path / 'bench.sqlite')) as c, c.cursor() as k:\n"
                   "    k.execute(QUERY); frame = k.fetch_record_batch().read_all().to_pandas()",
    "pandas.read_sql:sqlite": "import sqlite3, pandas as pd\n"
                              "with sqlite3.connect(path / 'bench.sqlite') as c: frame = pd.read_sql(QUERY, c)",
}


def memory_kb(field: str) -> int:
    """This process's resident (VmRSS) or peak resident (VmHWM) memory: VmHWM starts afresh at exec, unlike
    getrusage's ru_maxrss, which a child inherits from the process that started it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(name: str, path: Path, url: str) -> None:
    """Run one reader in this process; print seconds, peak MB over the post-import baseline, and rows."""
    import adbc_driver_postgresql.dbapi  # noqa: F401 - every driver imported before the baseline is taken
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401

    if name.startswith("podium:"):
        import agent.tables  # noqa: F401

    before = memory_kb("VmRSS")
    started = time.perf_counter()
    scope = {"path": path, "url": url, "QUERY": QUERY}
    exec(READERS[name], scope)  # noqa: S102 - the benchmark's own fixed snippets
    seconds = time.perf_counter() - started
    frame = scope["frame"]
    peak = (memory_kb("VmHWM") - before) / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "rows": len(frame), "columns": frame.shape[1],
                      "dtypes": sorted({str(t) for t in frame.dtypes})}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--readers", nargs="*", default=list(READERS))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.child[2])
        return
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="podium-readers-") as tmp:
        folder = Path(tmp)
        print(f"building {args.rows:,} rows x 30 columns in PostgreSQL, DuckDB, SQLite, CSV and Parquet...")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a kill still stops the server (finally)
        server = build(folder, args.rows)
        try:
            sizes = {p.name: p.stat().st_size for p in folder.glob("bench.*")}
            results: dict[str, list[dict]] = {name: [] for name in args.readers}
            for round_ in range(args.rounds):
                order = args.readers[round_ % len(args.readers):] + args.readers[:round_ % len(args.readers)]
                for name in order:
                    done = subprocess.run([sys.executable, __file__, "--child", name, str(folder), server.url],
                                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
                    if done.returncode:
                        print(f"{name}: failed\n{done.stderr[-2000:]}")
                        continue
                    record = json.loads(done.stdout.strip().splitlines()[-1])
                    record.update(reader=name, round=round_, commit=commit, rows_built=args.rows, cpus=os.cpu_count(),
                                  time=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), file_bytes=sizes)
                    results[name].append(record)
                    print(f"  round {round_} {name:28s} {record['seconds']:7.2f} s {record['peak_mb']:8.0f} MB")
                    with RECORDS.open("a") as handle:
                        handle.write(json.dumps(record) + "\n")
        finally:
            server.stop()
    print(f"\n{'reader':28s} {'median s':>9s} {'peak MB':>8s}  dtypes")
    for name, records in results.items():
        if records:
            print(f"{name:28s} {statistics.median(r['seconds'] for r in records):9.2f} "
                  f"{statistics.median(r['peak_mb'] for r in records):8.0f}  {', '.join(records[0]['dtypes'])}")


if __name__ == "__main__":
    main()
