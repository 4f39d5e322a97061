"""Every typed record on disk round-trips through its model, and a damaged, foreign, newer or missing file gets
one clear error naming it; files written before the records were versioned are still read."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from agent.errors import InputError
from agent.run.batch import BatchRow, BatchState
from agent.rundir import RunManifest
from agent.runtime.card import ModelCard
from agent.runtime.listing import CandidateListing
from agent.runtime.profile import Profile, profile_frame
from agent.runtime.schema import Schema
from tests.report import runs


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"age": rng.normal(40, 10, 60), "port": rng.choice(["S", "C", "Q"], 60)})


def _manifest() -> RunManifest:
    return RunManifest(podium_version="0.1.0", run_id="r1", competition_slug="titanic", status="succeeded",
                       started_at="2026-12-02T00:00:00Z", phases={"fetch": {"status": "succeeded",
                                                                            "started_at": "x", "seconds": 1.0}},
                       leaderboard={"ensemble": {"weights": {"a": 1.0}}})


RECORDS = {
    "schema": lambda: Schema.infer(_frame()),
    "profile": lambda: profile_frame(_frame(), ["age", "port"]),
    "candidates": lambda: CandidateListing.model_validate(
        {k: v for k, v in runs.candidates().items() if k not in ("format", "version")}),
    "card": lambda: ModelCard.model_validate(
        {k: v for k, v in runs.card(leaderboard_figures=True).items() if k not in ("format", "version")}),
    "manifest": _manifest,
    "batch": lambda: BatchState(rows={"k": BatchRow(competition="titanic", status="succeeded", metric="AUC",
                                                    validation_score=0.9, seconds=10.0, submission=None,
                                                    run_dir="/runs/x", source="titanic")}),
}


@pytest.fixture(params=sorted(RECORDS))
def record(request):
    return RECORDS[request.param]()


def test_a_record_reads_back_as_written(record, tmp_path):
    path = record.write(tmp_path / "record.json")
    content = json.loads(path.read_text())
    assert content["format"] == record.FORMAT and content["version"] == record.VERSION
    assert type(record).read(path) == record


@pytest.mark.parametrize("damage, message", [
    (lambda data: {"something": "else"}, "is not a podium"),
    (lambda data: [1, 2], "is not a podium"),
    (lambda data: {**data, "version": 99}, "has version 99"),
    (lambda data: {**data, **{key: {"bad": [1]} for key in list(data)[2:4]}}, "is damaged"),
])
def test_a_damaged_foreign_or_newer_file_is_one_clear_error(record, tmp_path, damage, message):
    path = tmp_path / "record.json"
    path.write_text(json.dumps(damage(record.dumped())))
    with pytest.raises(InputError, match=message) as caught:
        type(record).read(path)
    assert caught.value.where == str(path) and caught.value.fix


def test_not_json_and_missing_files_name_the_file(record, tmp_path):
    path = tmp_path / "record.json"
    with pytest.raises(InputError, match="is missing"):
        type(record).read(path)
    path.write_text('{"format": ')
    with pytest.raises(InputError, match="not valid JSON") as caught:
        type(record).read(path)
    assert caught.value.where == str(path)


def test_files_from_before_the_records_were_versioned_are_read(tmp_path):
    schema = Schema.infer(_frame())
    legacy = {"format": "podium-schema/1", "unseen_categories": "other",
              "columns": [c.model_dump() for c in schema.columns]}
    (tmp_path / "schema.json").write_text(json.dumps(legacy))
    assert Schema.read(tmp_path / "schema.json") == schema

    card = {k: v for k, v in runs.card().items() if k not in ("format", "version")}
    (tmp_path / "card.json").write_text(json.dumps({"format": "podium-model-card/1", **card}))
    assert ModelCard.read(tmp_path / "card.json").model.name == card["model"]["name"]

    listing = {k: v for k, v in runs.candidates().items() if k not in ("format", "version")}
    (tmp_path / "candidates.json").write_text(json.dumps(listing))
    assert CandidateListing.read(tmp_path / "candidates.json").chosen == listing["chosen"]

    manifest = {k: v for k, v in _manifest().dumped().items() if k not in ("format", "version")}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert RunManifest.read(tmp_path / "manifest.json").run_id == "r1"

    (tmp_path / "batch.json").write_text(json.dumps({"k": {"source": "titanic", "status": "failed",
                                                           "run_dir": None}}))
    assert BatchState.read(tmp_path / "batch.json").rows["k"].status == "failed"


def test_a_card_leaves_out_what_nobody_measured(tmp_path):
    card = ModelCard.model_validate({k: v for k, v in runs.card().items() if k not in ("format", "version")})
    written = json.loads(card.write(tmp_path / "card.json").read_text())
    assert "latency" not in written["leaderboard"] and "retrain" not in written


def test_a_profile_round_trip_keeps_the_features():
    profile = profile_frame(_frame(), ["age", "port"])
    again = Profile.parse(profile.dumped(), where="test")
    assert again.features["port"].categories == profile.features["port"].categories
