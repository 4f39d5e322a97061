"""Every bad input: one clear paragraph, a non-zero exit, and no submission written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from tests.conftest import make_tables, write_competition

runner = CliRunner()


def good_folder(root: Path) -> Path:
    frame = make_tables(n=120, target_values=lambda s: (s > 0.5).astype(int))
    train, test = frame.iloc[:80], frame.iloc[80:].drop(columns=["target"])
    sample = test[["id"]].assign(target=0.5)
    return write_competition(root / "comp", train, test, sample, {"evaluation_metric": "AUC"})


def corrupt_missing_file(folder):
    (folder / "test.csv").unlink()


def corrupt_empty_file(folder):
    (folder / "train.csv").write_text("")


def corrupt_not_csv(folder):
    (folder / "train.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary garbage \xff\xfe")


def corrupt_test_columns(folder):
    text = (folder / "test.csv").read_text().splitlines()
    text[0] = text[0].replace("x2", "x2_renamed")
    (folder / "test.csv").write_text("\n".join(text) + "\n")


def corrupt_target(folder):
    text = (folder / "train.csv").read_text().splitlines()
    text[0] = text[0].replace("target", "outcome") + ",spare"
    (folder / "train.csv").write_text("\n".join([text[0]] + [line + ",1" for line in text[1:]]) + "\n")


def corrupt_sample_ids(folder):
    lines = (folder / "sample_submission.csv").read_text().splitlines()
    lines[1] = "999999,0.5"
    (folder / "sample_submission.csv").write_text("\n".join(lines) + "\n")


def corrupt_single_class(folder):
    import pandas as pd

    train = pd.read_csv(folder / "train.csv")
    train.assign(target=1).to_csv(folder / "train.csv", index=False)


def corrupt_repeated_columns(folder):
    lines = (folder / "train.csv").read_text().splitlines()
    names = lines[0].split(",")
    names[names.index("x2")] = "x1"
    (folder / "train.csv").write_text("\n".join([",".join(names)] + lines[1:]) + "\n")


def corrupt_gzip_bomb(folder):
    import gzip

    (folder / "test.csv").unlink()
    lines = (folder / "train.csv").read_text().splitlines()
    header, row = lines[0], lines[1]
    with gzip.open(folder / "test.csv.gz", "wt", compresslevel=9) as out:
        out.write(header.replace(",target", "") + "\n")
        for _ in range(2_000_000):  # about 100 MB unpacked from about 100 KB
            out.write(row.rsplit(",", 1)[0] + "\n")


def corrupt_metric(folder):
    (folder / "competition.yaml").write_text("evaluation_metric: Root Mean Squared Error\ntask: binary\n")


@pytest.mark.parametrize(("corrupt", "message"), [
    (corrupt_missing_file, "folder lacks test"),
    (corrupt_empty_file, "train file is empty"),
    (corrupt_not_csv, "not a readable CSV"),
    (corrupt_test_columns, "test file has columns that train lacks"),
    (corrupt_target, "Could not find the target"),
    (corrupt_sample_ids, "ids do not match"),
    (corrupt_single_class, "single value"),
    (corrupt_metric, "does not fit a binary problem"),
    (corrupt_repeated_columns, "repeats column names ['x1']"),
    (corrupt_gzip_bomb, "test file is too large to read"),
], ids=lambda value: getattr(value, "__name__", "")[8:])
def test_bad_input_fails_clearly(ray_local, tmp_path, corrupt, message):
    folder = good_folder(tmp_path)
    corrupt(folder)
    out = tmp_path / "runs"
    result = runner.invoke(app, ["run", str(folder), "--time-limit", "25", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not list(out.rglob("submission.csv"))
    for manifest in out.rglob("manifest.json"):  # a run that started records why it failed
        record = json.loads(manifest.read_text())
        assert record["status"] == "failed" and message.split()[0] in record["error"]["message"]


def test_unknown_metric_on_the_command_line(ray_local, tmp_path):
    folder = good_folder(tmp_path)
    result = runner.invoke(app, ["run", str(folder), "--metric", "Hamming Distance", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert "Unknown evaluation metric" in output and "Root Mean Squared Error" in output


def test_missing_folder_and_bad_config(ray_local, tmp_path):
    result = runner.invoke(app, ["run", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "neither an existing folder" in " ".join(result.output.split())
    folder = good_folder(tmp_path)
    config = tmp_path / "bad.yaml"
    config.write_text("run:\n  time_limit: -5\n")
    result = runner.invoke(app, ["run", str(folder), "--config", str(config), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "time_limit" in result.output and "bad.yaml" in result.output.replace("\n", "")
    config.write_text("run: [unclosed\n")
    result = runner.invoke(app, ["run", str(folder), "--config", str(config), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "not valid YAML" in result.output
    shutil.rmtree(tmp_path / "r", ignore_errors=True)


def _read_only_folder() -> Path:
    """A place no process can write, root included (sysfs refuses new entries); skipped where there is none."""
    folder = Path("/sys/podium-output-test")
    try:
        folder.mkdir()
    except OSError:
        return folder
    folder.rmdir()
    pytest.skip("no read-only location on this machine")


def _one_paragraph(result, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    assert "failed unexpectedly" not in result.output and "podium.log" not in result.output
    return " ".join(result.output.split())


def test_output_folders_that_cannot_be_written_are_refused_before_any_work(tmp_path):
    folder = good_folder(tmp_path)
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    for out, message in ((a_file, "--out (run.out) names a file, not a folder"),
                         (a_file / "runs", "runs through a file"),
                         (_read_only_folder() / "runs", "podium cannot write there")):
        output = _one_paragraph(runner.invoke(app, ["run", str(folder), "--time-limit", "30", "--out", str(out)]))
        assert message in output and str(out) in output.replace(" ", "")
    batch = tmp_path / "batch.yaml"
    batch.write_text(f"competitions: [{{source: {folder}}}]\n")
    output = _one_paragraph(runner.invoke(app, ["batch", str(batch), "--out", str(a_file)]))
    assert "--out names a file, not a folder" in output
    assert a_file.read_text() == "not a folder"



def test_a_time_limit_too_short_to_hold_is_refused_with_the_shortest_that_holds(tmp_path):
    from agent.run.planner import MIN_TIME_LIMIT

    folder = good_folder(tmp_path)
    output = _one_paragraph(runner.invoke(app, ["run", str(folder), "--time-limit", "5", "--out",
                                                str(tmp_path / "runs")]))
    assert "A time limit of 5 s is too short" in output and f"is {MIN_TIME_LIMIT:g} s" in output
    assert f"pass --time-limit {MIN_TIME_LIMIT:g} or more" in output and not (tmp_path / "runs").exists()
