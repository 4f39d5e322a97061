"""`podium report` on bad input, a hand-made run, and proof that the browser check can fail."""

from __future__ import annotations

import base64

import pytest
from typer.testing import CliRunner

from cli import app
from tests.report import runs
from tests.report.browser import assert_images_loaded, render

runner = CliRunner()


def test_podium_report_refuses_a_folder_that_is_not_a_run(tmp_path):
    (tmp_path / "notes.txt").write_text("not a run")
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a podium run directory (no manifest.json)" in result.output
    assert "What to do:" in result.output and str(tmp_path) in result.output.replace("\n", "")
    assert not list(tmp_path.glob("report*"))


def test_podium_report_on_a_failed_run_exits_zero_and_shows_the_error(tmp_path):
    run = runs.write_run(tmp_path / "run", production=False)
    runs.edit_manifest(run, drop=("leaderboard", "validation"), status="failed",
                       error={"type": "RuntimeError", "message": "No leaderboard candidate finished",
                              "traceback": ["Traceback (most recent call last):\n", "RuntimeError: No leaderboard\n"]},
                       phases=runs.phases("fetch", "infer", "leaderboard", failed="leaderboard"),
                       production={"error": {"type": "BudgetError", "message": "No candidate fits 1 ms"}})
    result = runner.invoke(app, ["report", str(run)])
    assert result.exit_code == 0, result.output
    html = (run / "report.html").read_text()
    assert "The run failed: RuntimeError: No leaderboard candidate finished" in html
    assert "<pre>Traceback (most recent call last):\nRuntimeError: No leaderboard</pre>" in html
    assert "Leaderboard candidates and ensemble: not produced (the leaderboard phase failed)" in html
    assert "Production model: not produced (the production phase failed: No candidate fits 1 ms)" in html


def test_the_browser_check_catches_images_that_do_not_load(tmp_path):
    good = base64.b64encode(runs.png()).decode()
    page = tmp_path / "page.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'\"></head><body>"
        f'<img data-name="good" src="data:image/png;base64,{good}">'
        '<img data-name="corrupt" src="data:image/png;base64,iVBORw0KGgoAAAAbroken">'
        '<img data-name="external" src="http://127.0.0.1:9/picture.png"></body></html>')
    seen = render(page, tmp_path / "browser")
    widths = {image["name"]: image["width"] for image in seen["images"]}
    assert widths["good"] > 100 and widths["corrupt"] == 0 and widths["external"] == 0
    with pytest.raises(AssertionError):
        assert_images_loaded(seen, {"good", "corrupt", "external"})


def test_a_missing_chromium_fails_the_test_with_what_to_do(monkeypatch):
    from tests.report import browser

    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match="Chromium is not installed.*make test"):
        browser.chromium_binary()
