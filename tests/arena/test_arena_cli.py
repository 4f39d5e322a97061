"""`podium arena ...`: prepare, add-user, accept-rules, list, leaderboard, serve."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import requests
import yaml
from typer.testing import CliRunner

import devcorpus
from agent.arena.demo import DEMOS, seed_demo
from agent.arena.store import Store
from cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


class Result:
    """The command's exit code and its output with line wrapping undone."""

    def __init__(self, raw):
        self.exit_code = raw.exit_code
        self.output = " ".join(raw.output.split())


def podium(*args: str) -> Result:
    return Result(runner.invoke(app, list(args)))


def test_add_user_prints_the_key_last_and_keeps_only_its_hash(competitions):
    result = podium("arena", "add-user", "carol", "--competitions", str(competitions))
    assert result.exit_code == 0, result.output
    key = result.output.split()[-1]
    assert re.fullmatch(r"[0-9a-f]{32}", key)
    store = Store(competitions)
    assert store.authenticate("carol", key).name == "carol"
    assert key.encode() not in store.path.read_bytes() + b"".join(p.read_bytes() for p in store.state.glob("*-wal"))
    again = podium("arena", "add-user", "carol", "--competitions", str(competitions))
    assert again.exit_code == 2 and "already exists" in again.output
    bad = podium("arena", "add-user", "no/slash", "--competitions", str(competitions))
    assert bad.exit_code == 2 and "not a valid user name" in bad.output


def test_accept_rules_and_its_errors(competitions):
    podium("arena", "add-user", "carol", "--competitions", str(competitions))
    ok = podium("arena", "accept-rules", "titanic", "--user", "carol", "--competitions", str(competitions))
    assert ok.exit_code == 0 and Store(competitions).has_accepted(Store(competitions).user("carol"), "titanic")
    nobody = podium("arena", "accept-rules", "titanic", "--user", "dave", "--competitions", str(competitions))
    assert nobody.exit_code == 2 and "podium arena add-user dave" in nobody.output
    unknown = podium("arena", "accept-rules", "nope", "--user", "carol", "--competitions", str(competitions))
    assert unknown.exit_code == 2 and "No competition 'nope'" in unknown.output
    missing = podium("arena", "list", "--competitions", str(competitions / "missing"))
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_prepare_builds_a_competition_the_arena_lists(tmp_path, competitions):
    table = devcorpus.load("telco_churn", rows=300)
    table.to_csv(tmp_path / "churn.csv", index=False)
    out = competitions / "churn-2026"
    result = podium("arena", "prepare", str(tmp_path / "churn.csv"), "--target", "churn", "--metric", "Log Loss",
                    "--out", str(out), "--public-fraction", "0.3", "--max-daily-submissions", "2",
                    "--deadline", "2030-01-31T12:00:00Z", "--title", "Churn 2026")
    assert result.exit_code == 0, result.output
    declared = yaml.safe_load((out / "competition.yaml").read_text())
    assert declared["deadline"] == "2030-01-31T12:00:00Z" and declared["max_daily_submissions"] == 2
    answers = pd.read_csv(out / "private" / "answers.csv")
    assert set(answers["Usage"]) == {"Public", "Private"} and "churn" not in pd.read_csv(out / "public" / "test.csv")
    listed = podium("arena", "list", "--competitions", str(competitions))
    assert listed.exit_code == 0 and "churn-2026" in listed.output and "Log Loss" in listed.output
    again = podium("arena", "prepare", str(tmp_path / "churn.csv"), "--target", "churn", "--metric", "Log Loss",
                   "--out", str(out))
    assert again.exit_code == 2 and "already exists" in again.output
    bad_metric = podium("arena", "prepare", str(tmp_path / "churn.csv"), "--target", "churn", "--metric", "Vibes",
                        "--out", str(competitions / "other"))
    assert bad_metric.exit_code == 2 and "Unknown evaluation metric 'Vibes'" in bad_metric.output
    assert not (competitions / "other").exists()


def test_host_key_is_printed_once_and_a_new_one_replaces_it(competitions):
    first = podium("arena", "host-key", "--competitions", str(competitions))
    assert first.exit_code == 0 and "shown once" in first.output, first.output
    key = first.output.split()[-1]
    store = Store(competitions)
    assert re.fullmatch(r"[0-9a-f]{32}", key) and store.is_host_key(key)
    assert key.encode() not in store.path.read_bytes() + b"".join(p.read_bytes() for p in store.state.glob("*-wal"))
    second = podium("arena", "host-key", "--competitions", str(competitions)).output.split()[-1]
    assert store.is_host_key(second) and not store.is_host_key(key) and not store.is_host_key("")
    missing = podium("arena", "host-key", "--competitions", str(competitions / "missing"))
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_leaderboard_command(competitions):
    store = Store(competitions)
    key = store.add_user("carol")
    user = store.authenticate("carol", key)
    store.accept_rules(user, "titanic")
    token = store.start_upload(user, "titanic", "s.csv", 10)
    store.upload_path(token).write_text("x")
    store.complete_upload(token, 1)
    ref = store.create_submission(user, "titanic", token, "manual", 5)
    store.record_score(ref, 0.75, 0.7, None)
    public = podium("arena", "leaderboard", "titanic", "--competitions", str(competitions))
    assert public.exit_code == 0 and "carol" in public.output and "0.75" in public.output
    private = podium("arena", "leaderboard", "titanic", "--private", "--competitions", str(competitions))
    assert "0.7" in private.output and "private leaderboard" in private.output


def test_serve_seeds_demos_prints_its_address_and_stops_on_sigterm(tmp_path):
    folder = tmp_path / "arena"
    seed_demo(folder, only=["titanic"], rows=200)  # a folder with a competition: serve seeds nothing more
    process = subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", "arena", "serve", "--competitions",
                                str(folder), "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=ROOT, env={**os.environ, "COLUMNS": "200"})
    try:
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        assert "serving 1 competition from" in line
        assert requests.get(f"{url}/healthz", timeout=10).text == "ok\n"
        assert "titanic" in requests.get(f"{url}/competitions/titanic/rules", timeout=10).text
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0 and "Arena stopped." in out


def test_seed_demo_builds_each_demo_once(tmp_path):
    built = seed_demo(tmp_path, only=["titanic", "deliveries"], rows=150)
    assert built == ["titanic", "deliveries"] and set(DEMOS) >= set(built)
    assert yaml.safe_load((tmp_path / "titanic" / "competition.yaml").read_text())["evaluation_metric"] == "AUC"
    assert seed_demo(tmp_path, only=["titanic"]) == []
