"""The report of a real (short) podium run: built from its directory, rendered by headless Chromium."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from agent.report import write_report
from cli import app
from tests.report.browser import assert_images_loaded, render

EXTERNAL = ('src="http', "src='http", 'href="http', "url(", "@import", "<link", "<script")


def test_report_of_a_real_run_renders_in_chromium(real_run, tmp_path):
    paths = write_report(real_run)
    manifest = json.loads((real_run / "manifest.json").read_text())
    quality = json.loads((real_run / "quality.json").read_text())
    html = paths["html"].read_text()
    markdown = paths["markdown"].read_text()
    assert paths["html"] == real_run / "report.html" and paths["markdown"] == real_run / "report.md"

    # self-contained: nothing to fetch, every picture inline
    assert not [marker for marker in EXTERNAL if marker in html]
    assert html.count('src="data:image/png;base64,') == len([k for k in paths if k not in ("html", "markdown")])
    assert "could not be built" not in html

    # the run's own facts are in both renderings
    board = manifest["leaderboard"]
    best = board["candidates"][0]["name"]
    assert best in html and best.replace("_", "\\_") in markdown
    for name in board["ensemble"]["weights"]:
        assert name in html
    pool = board["ensemble"]["pool"]
    assert f"chosen from {pool['candidates']} candidates: {pool['rule']}".replace("'", "&#x27;") in html
    guard = board["ensemble"]["guard"]
    assert guard["kept"] in ("blend", "best single candidate") and f"Kept: the {guard['kept']}" in html
    higher = manifest["validation"]["greater_is_better"]
    blend_won = (guard["blend_in_folds"] > guard["best_single_in_folds"]) == higher and \
        guard["blend_in_folds"] != guard["best_single_in_folds"]
    assert (guard["kept"] == "blend") == blend_won
    if not blend_won:  # the best single candidate the blend could use (one with test predictions)
        weights = board["ensemble"]["weights"]
        assert list(weights.values()) == [1.0] and set(weights) <= {c["name"] for c in board["candidates"]}
    assert f"{manifest['validation']['score']:.5g}" in html
    for finding in quality["findings"]:
        assert finding["check"] in html
    for phase in manifest["phases"]:
        assert phase in html
    for piece in manifest["plan"]["pieces"]:  # the plan, planned against actual
        assert f"<td>{piece['name']}</td>" in html
    assert f"submission.csv was written {len(manifest['submissions'])} time(s)" in html
    assert manifest["competition"]["provenance"]["target"].replace("'", "&#x27;") in html

    # production: shown when the run made one, "not produced" otherwise
    has_production = (real_run / "production" / "model_card.json").is_file()
    expected = {"leaderboard_scores.png", "phase_timings.png"} | ({"production_frontier.png"} if has_production
                                                                  else set())
    if has_production:
        card = json.loads((real_run / "production" / "model_card.json").read_text())
        assert card["model"]["name"] in html
    else:
        assert "Production model: not produced" in html
    assert "Not submitted" in html

    seen = render(paths["html"], tmp_path / "browser")
    assert seen["title"] == f"podium run report: titanic / {manifest['run_id']}"
    assert_images_loaded(seen, expected)
    # a phase that failed (on a slow machine the short production phase may find no time) opens the report
    failed = any(p.get("status") == "failed" for p in manifest["phases"].values())
    assert seen["sections"] == ["problems"] * failed + ["competition", "checks", "leaderboard", "production",
                                                        "comparison", "timings", "submission"]
    assert best in seen["text"] and "Both models side by side" in seen["text"]


def test_podium_report_rebuilds_the_files(real_run):
    (real_run / "report.html").unlink(missing_ok=True)
    (real_run / "report.md").unlink(missing_ok=True)
    result = CliRunner().invoke(app, ["report", str(real_run)])
    assert result.exit_code == 0, result.output
    assert "report.html" in result.output
    assert (real_run / "report.html").stat().st_size > 10_000 and (real_run / "report.md").is_file()
    assert not list(real_run.glob(".report*.tmp")) and not list(real_run.glob("report_figures/.*.tmp"))


def test_leaderboard_costs_count_the_cpus_autogluon_held(real_run):
    """AutoGluon's folds run in other Ray workers: its CPU figure must not be its driver task's alone."""
    board = json.loads((real_run / "manifest.json").read_text())["leaderboard"]
    costs, notes = board["costs"], board["cost_notes"]
    assert costs["autogluon_cpu_seconds"] >= 0.5 * board["timings"]["autogluon"]
    assert set(notes) == set(costs) - {"cpu_seconds"}
    assert costs["cpu_seconds"] == pytest.approx(sum(v for k, v in costs.items() if k != "cpu_seconds"), abs=0.01)
