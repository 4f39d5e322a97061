"""A local competition folder: competition.yaml's keys are checked, so a typo stops the run instead of being lost."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from agent.competition import overrides
from agent.competition.declaration import KEYS
from agent.errors import InputError
from agent.sources import LocalSource
from cli import app
from tests.test_cli_bad_input import good_folder

runner = CliRunner()


def test_a_misspelt_key_stops_the_run_naming_the_nearest_known_one(tmp_path):
    folder = good_folder(tmp_path)
    (folder / "competition.yaml").write_text("evalution_metric: Mean Absolute Error\n")
    result = runner.invoke(app, ["run", str(folder), "--time-limit", "30", "--out", str(tmp_path / "runs")])
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())
    assert "Unknown key 'evalution_metric'" in output and "nearest known key is 'evaluation_metric'" in output
    assert not (tmp_path / "runs").exists()


def test_what_the_arena_writes_is_accepted(build_corpus):
    folder = build_corpus("titanic", rows=200)
    declared = yaml.safe_load((folder / "competition.yaml").read_text())
    assert set(declared) <= set(KEYS)
    fetched = LocalSource(folder).fetch()
    assert fetched.declared == {"evaluation_metric": "AUC"}
    assert fetched.metadata["title"] == declared["title"]


@pytest.mark.parametrize("key", KEYS)
def test_every_known_key_is_accepted(tmp_path, key):
    folder = good_folder(tmp_path)
    (folder / "competition.yaml").write_text(yaml.safe_dump({key: None}))
    LocalSource(folder).fetch()


def test_a_misspelt_field_in_a_settings_layer_is_refused_naming_the_layer():
    with pytest.raises(InputError) as caught:
        overrides.collect([("configs/competitions/x.yaml", {"metric": "AUC", "targte": "y"})])
    assert "'targte'" in caught.value.what and "'target'" in caught.value.what
    assert caught.value.where == "configs/competitions/x.yaml"
