"""Names that become folder names (slugs, batch names, run ids): one component inside the parent, or refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from agent.errors import InputError
from agent.names import safe_component
from agent.rundir import Run
from cli import app
from tests.test_cli_bad_input import good_folder

runner = CliRunner()
HOSTILE = ["..", ".", "", " ", "../x", "../../../tmp/x", "/abs/path", "a/b", "a\\b", "x\x00y", "line\nbreak",
           " padded", "é" * 200]


def stays_inside(parent: Path, name: str) -> bool:
    joined = parent / name
    return joined.parent == parent and parent in joined.resolve().parents


@settings(max_examples=500, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(), st.sampled_from(HOSTILE), st.integers(), st.none(), st.booleans()))
def test_a_name_is_refused_or_stays_inside_its_parent(tmp_path, value):
    try:
        name = safe_component(value, "slug", "competition.yaml")
    except InputError as error:
        assert "slug" in error.message and "competition.yaml" in error.message
        return
    assert stays_inside(tmp_path, name)
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)  # a name that passes can really be created
    assert folder.is_dir() and folder.parent == tmp_path


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_refused(name):
    with pytest.raises(InputError):
        safe_component(name, "slug")


def test_a_run_directory_never_leaves_out(tmp_path):
    with pytest.raises(InputError, match="competition slug"):
        Run.create(tmp_path / "runs", "../escaped")
    with pytest.raises(InputError, match="run id"):
        Run.create(tmp_path / "runs", "titanic", run_id="../../escaped")
    assert not (tmp_path / "escaped").exists() and not list(tmp_path.rglob("manifest.json"))


def test_a_slug_in_competition_yaml_that_climbs_out_is_refused(tmp_path):
    folder = good_folder(tmp_path)
    (folder / "competition.yaml").write_text(yaml.safe_dump({"slug": "../../../tmp/x", "evaluation_metric": "AUC"}))
    out = tmp_path / "deep" / "er" / "runs"
    result = runner.invoke(app, ["run", str(folder), "--time-limit", "30", "--out", str(out)])
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())
    assert "slug" in output and "competition.yaml" in output and "Traceback" not in output
    assert not list(tmp_path.rglob("manifest.json"))


@pytest.mark.parametrize("name", ["/abs/path", "../..", "a/b"])
def test_a_batch_name_that_is_a_path_is_refused(tmp_path, name):
    batch = tmp_path / "batch.yaml"
    batch.write_text(yaml.safe_dump({"name": name, "competitions": [{"source": str(good_folder(tmp_path))}]}))
    out = tmp_path / "a" / "b" / "runs"
    before = set(os.listdir(tmp_path))
    result = runner.invoke(app, ["batch", str(batch), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "batch `name`" in " ".join(result.output.split())
    assert set(os.listdir(tmp_path)) == before and not list(tmp_path.rglob("batch.csv"))
    assert not Path("/abs/path").exists()


def test_arena_prepare_refuses_a_slug_that_is_no_folder_name(tmp_path):
    import pandas as pd

    from agent.arena.prepare import prepare_competition

    table = pd.DataFrame({"x": range(40), "y": [0, 1] * 20})
    with pytest.raises(InputError, match="competition slug"):
        prepare_competition(table, "y", "AUC", tmp_path / "arena" / "..")
