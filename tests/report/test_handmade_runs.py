"""Reports of hand-made run directories: complete, hostile, failed, killed, broken, and wrong-shaped."""

from __future__ import annotations

import json

import pytest

from agent.errors import InputError
from agent.report import write_report
from tests.report import runs
from tests.report.browser import assert_images_loaded, render

ALL_FIGURES = {"leaderboard_scores.png", "production_frontier.png", "phase_timings.png"}


def test_a_complete_run_shows_both_models_and_the_submission(tmp_path):
    run = runs.write_run(tmp_path / "run", leaderboard_figures=True)
    paths = write_report(run)
    html, markdown = paths["html"].read_text(), paths["markdown"].read_text()
    for text in ("lightgbm/t03-L15-T60", "0.8589", "123456", "0.80213", "decision threshold 0.43",
                 "configs/competitions/titanic.yaml", "command line", "100 rows", "linear/C1 ", "autogluon/best"):
        assert text in markdown, text
    # the leaderboard model's figures come from the model card when it has them
    assert "41.0 ms / 87.5 ms" in html and "48 MB" in html and "2,100 rows/s" in html and "55.0 s" in html
    assert "950 s / 40,000 s" in html and "11.9 s / 51.6 s" in html  # CPU-seconds per million predictions
    assert "taken from the run" not in html
    assert "| 1 | sex (0.2 ± 0.01) | sex (0.21 ± 0.05) |" in markdown
    assert set(p.name for k, p in paths.items() if k not in ("html", "markdown")) == ALL_FIGURES
    for name in ALL_FIGURES:
        assert (run / "report_figures" / name).read_bytes().startswith(b"\x89PNG")
        assert f"](report_figures/{name})" in markdown

    seen = render(paths["html"], tmp_path / "browser")
    assert_images_loaded(seen, ALL_FIGURES)
    assert "problems" not in seen["sections"] and seen["tables"] >= 10


def test_missing_leaderboard_figures_come_from_the_manifest_or_read_not_measured(tmp_path):
    run = runs.write_run(tmp_path / "run", leaderboard_figures=False)
    (run / "models").mkdir()
    (run / "models" / "predictor.pkl").write_bytes(b"x" * 3000)
    markdown = write_report(run)["markdown"].read_text()
    row = next(line for line in markdown.splitlines() if line.startswith("| training wall time |"))
    assert row == "| training wall time | 7.50 s | 0.21 s |"  # the leaderboard phase, as recorded
    assert "| training CPU time | 39.3 s | not measured |" in markdown
    assert "| size on disk | 3 kB | 17.5 kB |" in markdown
    assert "| latency, one row (p50 / p99) | not measured | 0.041 ms / 0.164 ms |" in markdown
    assert "taken from the run: training wall time" in markdown


def test_strings_from_the_data_are_escaped(tmp_path):
    run = runs.write_run(tmp_path / "run", hostile=True)
    paths = write_report(run)
    html, markdown = paths["html"].read_text(), paths["markdown"].read_text()
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>trial" not in html
    assert "&lt;script&gt;alert(&quot;column&quot;)&lt;/script&gt;" in html
    assert "<script>" not in markdown and "<img src=x" not in markdown
    assert "optuna-lightgbm/&lt;b&gt;trial&lt;/b&gt;\\|7" in markdown  # one table cell, no markup

    seen = render(paths["html"], tmp_path / "browser")
    assert seen["scripts"] == 1  # only the test's own check script
    assert_images_loaded(seen, ALL_FIGURES)  # no injected image
    assert runs.HOSTILE_COLUMN in seen["text"] and runs.HOSTILE_MESSAGE in seen["text"]
    assert runs.HOSTILE_CANDIDATE in seen["text"]


def test_a_failed_run_shows_its_error_and_what_was_not_produced(tmp_path):
    run = runs.write_run(tmp_path / "run", production=False)
    (run / "submission.csv").unlink()
    runs.write_json(run / "quality.json", runs.quality(error=True))
    runs.edit_manifest(run, drop=("leaderboard", "validation", "submission", "artifacts"), status="failed",
                       error={"type": "QualityError", "message": "The data checks found 1 error(s)"},
                       phases=runs.phases("fetch", "ray_start", "load", "infer", "quality", failed="quality"))
    paths = write_report(run)
    markdown = paths["markdown"].read_text()
    assert "**Error:** The run failed: QualityError: The data checks found 1 error(s)" in markdown
    assert "Failed phase(s): quality" in markdown
    assert "| single\\_feature\\_leak | leaky |" in markdown and "**error: 1**" in markdown
    for missing in ("Leaderboard candidates and ensemble: not produced (the run stopped before it)",
                    "Production model: not produced", "submission.csv: not produced", "Not submitted"):
        assert missing in markdown, missing
    assert "| leaderboard model | not produced |" in markdown
    html = paths["html"].read_text()
    assert '<tr class="error"><td>single_feature_leak</td>' in html and '<tr class="failed"><td>quality</td>' in html

    seen = render(paths["html"], tmp_path / "browser")
    assert seen["sections"][0] == "problems"
    assert_images_loaded(seen, {"phase_timings.png"})


def test_a_killed_run_with_broken_files_still_gets_a_report(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    manifest = runs.manifest()
    manifest.update(status="running", finished_at=None, seconds=None,
                    phases=runs.phases("fetch", "ray_start", running="ray_start"))
    for key in ("competition", "data", "leaderboard", "validation", "submission", "artifacts"):
        manifest.pop(key)
    runs.write_json(run / "manifest.json", manifest)
    (run / "quality.json").write_text("{not json")
    (run / "config.yaml").write_text("- just\n- a list\n")
    (run / "production").mkdir()
    (run / "production" / "model_card.json").write_text("[1, 2]")
    (run / "production" / "frontier.png").write_bytes(b"GIF89a not a png")
    paths = write_report(run)
    markdown = paths["markdown"].read_text()
    for text in ("still in progress", "quality.json could not be read (JSONDecodeError",
                 "config.yaml could not be read (ValueError: expected a mapping",
                 "model\\_card.json could not be read", "frontier.png could not be read (ValueError: not a PNG",
                 "Competition settings: not produced", "| ray\\_start | running | unfinished |"):
        assert text in markdown, text
    assert "could not be built" not in markdown
    seen = render(paths["html"], tmp_path / "browser")
    assert_images_loaded(seen, {"phase_timings.png"})


def test_wrong_shaped_fields_never_break_a_section(tmp_path):
    run = runs.write_run(tmp_path / "run")
    runs.edit_manifest(run, phases=["fetch"], competition="titanic", data=[1, 2], validation=None,
                       leaderboard={"candidates": [1, "x", {"name": None, "oof_score": "high"}], "ensemble": [],
                                    "studies": {"a": 1}, "timings": None, "costs": "cheap"},
                       submission="sent", error="boom", host_metadata=None, production={"path": 3})
    runs.write_json(run / "quality.json", {"findings": [None, {"severity": "odd"}], "counts": [], "rows": None})
    runs.write_json(run / "production" / "candidates.json", {"candidates": {"x": 1}, "chosen": 3})
    markdown = write_report(run)["markdown"].read_text()
    assert "could not be built" not in markdown
    assert "The run failed: error: boom" in markdown and "1 finding(s) with an unknown severity" in markdown


def test_a_section_that_fails_is_reported_and_the_rest_is_written(tmp_path, monkeypatch):
    from agent.report import build

    def broken(inputs):
        raise KeyError("surprise")

    monkeypatch.setattr(build, "SECTIONS", ((*build.SECTIONS[0][:2], broken), *build.SECTIONS[1:]))
    markdown = write_report(runs.write_run(tmp_path / "run"))["markdown"].read_text()
    assert "This section could not be built from the run's files (KeyError: 'surprise')" in markdown
    assert "## Leaderboard model" in markdown and "autogluon/CatBoost\\_BAG\\_L1" in markdown


def test_a_failure_while_rendering_leaves_the_previous_report_untouched(tmp_path, monkeypatch):
    from agent.report import build

    run = runs.write_run(tmp_path / "run")
    paths = write_report(run)
    before = {name: path.read_bytes() for name, path in paths.items()}
    runs.edit_manifest(run, run_id="20261128-999999-ffffff")

    def explode(report):
        raise RuntimeError("renderer broke")

    monkeypatch.setattr(build, "render_html", explode)
    with pytest.raises(RuntimeError, match="renderer broke"):
        write_report(run)
    assert {name: path.read_bytes() for name, path in paths.items()} == before
    assert not [p for p in run.rglob("*") if p.name.endswith(".tmp")]


def test_figures_a_rebuild_no_longer_shows_are_removed(tmp_path):
    run = runs.write_run(tmp_path / "run")
    assert (write_report(run)["production_frontier"]).is_file()
    for path in (run / "production").iterdir():
        path.unlink()
    (run / "production").rmdir()
    paths = write_report(run)
    assert "production_frontier" not in paths
    assert not (run / "report_figures" / "production_frontier.png").exists()
    assert "production\\_frontier.png" not in paths["markdown"].read_text()


@pytest.mark.parametrize("make", ["empty", "file", "broken_json", "not_a_manifest", "missing"])
def test_a_folder_that_is_not_a_run_directory_is_refused(tmp_path, make):
    target = tmp_path / "target"
    if make == "empty":
        target.mkdir()
    elif make == "file":
        target.write_text("hello")
    elif make == "broken_json":
        target.mkdir()
        (target / "manifest.json").write_text("{")
    elif make == "not_a_manifest":
        target.mkdir()
        (target / "manifest.json").write_text(json.dumps({"hello": "world"}))
    with pytest.raises(InputError) as caught:
        write_report(target)
    assert str(target) in caught.value.message
    assert not (target.is_dir() and list(target.glob("report*")))
