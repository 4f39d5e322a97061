"""`podium monitor`: exit 0 without drift, 1 with drift, 2 for bad input; outputs written whole or not at all."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import app

runner = CliRunner()


def monitor(*args):
    return runner.invoke(app, ["monitor", *map(str, args)])


def test_unshifted_data_exits_zero_and_writes_outputs(artifact_dir, unshifted, tmp_path):
    new = tmp_path / "new.csv"
    unshifted.to_csv(new, index=False)
    result = monitor(artifact_dir, new)
    assert result.exit_code == 0, result.output
    out = artifact_dir / "monitor"
    assert json.loads((out / "drift.json").read_text())["verdict"] == "ok"
    assert (out / "drift.png").read_bytes()[:4] == b"\x89PNG"
    assert "carat" in result.output and "drift: ok" in result.output


def test_shifted_data_exits_one(artifact_dir, shifted, tmp_path):
    new = tmp_path / "shifted.csv"
    shifted.to_csv(new, index=False)
    result = monitor(artifact_dir, new, "--out", tmp_path / "report")
    assert result.exit_code == 1, result.output
    content = json.loads((tmp_path / "report" / "drift.json").read_text())
    assert content["verdict"] == "drift" and "carat" in content["drifted_features"]
    assert "drift: drift" in result.output


def test_threshold_option_moves_the_line(artifact_dir, shifted, tmp_path):
    new = tmp_path / "shifted.csv"
    shifted.to_csv(new, index=False)
    assert monitor(artifact_dir, new, "--threshold", "50").exit_code == 0
    content = json.loads((artifact_dir / "monitor" / "drift.json").read_text())
    assert content["thresholds"]["psi_drift"] == 50.0
    assert monitor(artifact_dir, new, "--threshold", "-1").exit_code == 2


def test_config_file_thresholds_apply(artifact_dir, shifted, tmp_path):
    new = tmp_path / "shifted.csv"
    shifted.to_csv(new, index=False)
    config = tmp_path / "monitor.yaml"
    config.write_text("monitor:\n  psi_drift: 50\n  psi_warning: 40\n")
    assert monitor(artifact_dir, new, "--config", config).exit_code == 0


def test_request_log_is_accepted(artifact_dir, shifted, tmp_path):
    log = tmp_path / "requests.jsonl"
    records = shifted.drop(columns=["price"]).to_dict(orient="records")
    log.write_text("\n".join(json.dumps({"rows": records[i:i + 10]}) for i in range(0, len(records), 10)))
    result = monitor(artifact_dir, log, "--out", tmp_path / "out")
    assert result.exit_code == 1, result.output
    assert json.loads((tmp_path / "out" / "drift.json").read_text())["rows"] == len(shifted)


@pytest.mark.parametrize("problem", ["missing file", "missing profile", "missing artifact dir", "wrong columns",
                                     "bad json"])
def test_bad_input_exits_two_and_writes_nothing(artifact_dir, unshifted, tmp_path, problem):
    new = tmp_path / "new.csv"
    unshifted.to_csv(new, index=False)
    target, expected = artifact_dir, ""
    if problem == "missing file":
        new, expected = tmp_path / "absent.csv", "does not exist"
    elif problem == "missing profile":
        (artifact_dir / "reference_profile.json").unlink()
        expected = "reference profile is missing"
    elif problem == "missing artifact dir":
        target, expected = tmp_path / "no-such-model", "artifact folder does not exist"
    elif problem == "wrong columns":
        unshifted.rename(columns={"carat": "weight"}).to_csv(new, index=False)
        expected = "lacks 1 feature column(s)"
    else:
        new = tmp_path / "requests.jsonl"
        new.write_text('{"carat": 1}\n{oops\n')
        expected = "Line 2 is not valid JSON"
    out = tmp_path / "out"
    result = monitor(target, new, "--out", out)
    assert result.exit_code == 2
    assert expected in " ".join(result.output.split())
    assert not out.exists()


def test_an_out_that_is_a_file_is_refused_before_reading(artifact_dir, unshifted, tmp_path):
    new, out = tmp_path / "new.csv", tmp_path / "a-file"
    unshifted.to_csv(new, index=False)
    out.write_text("kept")
    result = monitor(artifact_dir, new, "--out", out)
    assert result.exit_code == 2, result.output
    assert "--out names a file, not a folder" in " ".join(result.output.split())
    assert "failed unexpectedly" not in result.output and out.read_text() == "kept"


def test_json_nested_too_deeply_is_bad_input_naming_the_line(artifact_dir, tmp_path):
    log = tmp_path / "deep.jsonl"
    log.write_text('{"carat": 1}\n' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "\n")
    result = monitor(artifact_dir, log, "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())
    assert "Line 2 is not valid JSON (it nests arrays or objects too deeply)" in output
    assert "failed unexpectedly" not in output and not (tmp_path / "out").exists()
