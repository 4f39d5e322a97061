"""The whole flow from a real PostgreSQL: a tiny run from a folder holding only competition.yaml, `podium predict`
back into a table, `podium monitor` over a query; no file the run writes holds the password."""

from __future__ import annotations

import json
import time

import pytest
import yaml
from typer.testing import CliRunner

from cli import app
from tests.conftest import local_ray
from tests.postgres import PASSWORD
from tests.sources.test_database_source import load_competition

runner = CliRunner()


@pytest.fixture(scope="module")
def shop_run(postgres, tmp_path_factory):
    """One run of the competition in PostgreSQL (the URL in competition.yaml holds the password)."""
    local_ray(tmp_path_factory)
    load_competition(postgres)
    folder = tmp_path_factory.mktemp("db") / "shop"
    folder.mkdir()
    (folder / "competition.yaml").write_text(yaml.safe_dump({
        "database": postgres.url, "train": "train", "test": "SELECT * FROM test", "tables": {"stores": "stores"},
        "target": "target", "id": "id", "metric": "AUC"}))
    out = tmp_path_factory.mktemp("runs")
    result = runner.invoke(app, ["run", str(folder), "--time-limit", "25", "--out", str(out), "--seed", "0"])
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    return postgres, next((out / "shop").iterdir()), out


def test_a_run_from_postgresql_records_its_queries_and_never_the_password(shop_run):
    server, run_dir, out = shop_run
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "succeeded"
    reads = manifest["data_sources"]
    assert reads["train"]["query"] == 'SELECT * FROM (SELECT * FROM "train") AS podium_rows LIMIT 5000001'
    assert (reads["train"]["rows"], reads["test"]["rows"], reads["tables.stores"]["rows"]) == (200, 100, 4)
    assert reads["sample_submission"]["built"] and not reads["train"]["sampled"]
    assert manifest["competition_files"]["train"] == server.url_without_password + "#train"
    load = next(p for p in manifest["plan"]["pieces"] if p["name"] == "load")
    assert load["actual"]["status"] == "done" and load["deadline"] == 7.5
    submission = (run_dir / "submission.csv").read_text().splitlines()
    assert submission[0] == "id,target" and len(submission) == 101
    written = [path for path in out.rglob("*") if path.is_file()]
    assert len(written) > 20
    assert [path for path in written if PASSWORD.encode() in path.read_bytes()] == []


def test_predict_writes_back_into_a_table_and_monitor_reads_a_query(shop_run):
    server, run_dir, _ = shop_run
    production = str(run_dir / "production")
    result = runner.invoke(app, ["predict", production, server.url + "#SELECT * FROM test",
                                 "-o", server.url + "#predictions"])
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output and "wrote 100 predictions to postgresql://podium@" in result.output
    assert server.sql("SELECT count(*), min(target) >= 0, max(target) <= 1 FROM predictions").strip() == "100|t|t"
    result = runner.invoke(app, ["monitor", production, server.url + "#SELECT * FROM labelled WHERE id % 2 = 0",
                                 "--out", str(run_dir / "monitor")])
    assert result.exit_code in (0, 1), result.output
    drift = json.loads((run_dir / "monitor" / "drift.json").read_text())
    assert drift["rows"] == 150 and drift["source"]["query"].startswith("SELECT * FROM (SELECT * FROM labelled")
    assert PASSWORD not in (run_dir / "monitor" / "drift.json").read_text()


def test_retrain_reads_its_labelled_rows_from_a_query(shop_run, tmp_path):
    server, run_dir, _ = shop_run
    result = runner.invoke(app, ["retrain", str(run_dir), "--data", server.url + "#SELECT * FROM labelled",
                                 "--out", str(tmp_path), "--time-budget", "5"])
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    manifest = json.loads(next((tmp_path / "shop").iterdir()).joinpath("manifest.json").read_text())
    data = manifest["retrain"]["data"]
    assert (data["source"], data["rows"], data["labelled_rows"]) == ("database", 300, 300)
    assert data["query"].startswith("SELECT * FROM (SELECT * FROM labelled)") and PASSWORD not in json.dumps(manifest)


def test_a_wrong_password_is_exit_2_and_never_shown(shop_run, tmp_path):
    server, run_dir, _ = shop_run
    wrong = server.url.replace(PASSWORD, "Not-The-Pw-77")
    result = runner.invoke(app, ["predict", str(run_dir / "production"), wrong + "#test",
                                 "-o", str(tmp_path / "p.csv")])
    assert result.exit_code == 2 and "refused the credentials" in " ".join(result.output.split())
    assert "Not-The-Pw-77" not in result.output and not (tmp_path / "p.csv").exists()


def test_ten_million_rows_in_a_30_second_run_end_in_a_clear_error_quickly(shop_run, tmp_path, monkeypatch):
    """The load deadline (a share of --time-limit) or the byte bound stops the read: exit 2, never a hang, and
    never a run on ten million rows (a sample of a table over database.max_rows: tests/tables)."""
    server, _, _ = shop_run
    folder = tmp_path / "huge"
    folder.mkdir()
    (folder / "competition.yaml").write_text(yaml.safe_dump({
        "database": server.url_without_password, "target": "target", "id": "id",
        "train": "SELECT g AS id, g % 13 AS x, md5(g::text) AS h, g % 2 AS target FROM generate_series(1, 10000000) g",
        "test": "SELECT g AS id, g % 13 AS x, md5(g::text) AS h FROM generate_series(1, 100) AS g"}))
    config = tmp_path / "config.yaml"
    config.write_text("run:\n  max_table_bytes: 200000000\ndatabase:\n  max_rows: 20000000\n")
    monkeypatch.setenv("PGPASSWORD", PASSWORD)  # the URL holds none: libpq finds it, as psql would
    started = time.monotonic()
    result = runner.invoke(app, ["run", str(folder), "--time-limit", "30", "--out", str(tmp_path / "runs"),
                                 "--config", str(config)])
    output = " ".join(result.output.split())
    assert result.exit_code == 2, output
    assert "did not finish in time" in output or "too large to read" in output
    assert time.monotonic() - started < 25
    manifest = json.loads(next((tmp_path / "runs" / "huge").iterdir()).joinpath("manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["data_sources"]["deadline_seconds"] == 9.0
