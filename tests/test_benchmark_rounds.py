"""benchmarks/rounds.py: the alternated rounds the single-call benchmarks time their paths in."""

from __future__ import annotations

import json

from benchmarks.rounds import alternated, append_record, percentiles_us


def test_rounds_alternate_the_order_of_the_paths():
    order = [(r, name) for r, name, _ in alternated({"a": 1, "b": 2, "c": 3}, rounds=3)]
    assert order == [(0, "a"), (0, "b"), (0, "c"), (1, "c"), (1, "b"), (1, "a"), (2, "a"), (2, "b"), (2, "c")]


def test_every_call_is_made_and_only_the_timed_ones_count():
    seen: list[int] = []
    p50, p99 = percentiles_us(seen.append, calls=30, warmup=5)
    assert seen == list(range(5)) + list(range(30))
    assert 0 < p50 <= p99


def test_records_are_appended_with_the_time_they_were_measured(tmp_path):
    path = tmp_path / "results" / "x.jsonl"
    append_record(path, {"path": "a", "p50_us": 1.0})
    append_record(path, {"path": "b", "p50_us": 2.0})
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["path"] for line in lines] == ["a", "b"] and all(line["at"].startswith("20") for line in lines)
