"""`production.require_onnx`: the shipped model is one `podium export --onnx` can write, or the phase says why not."""

from __future__ import annotations

import json
import shutil

import pytest

from agent.errors import BudgetError
from agent.runtime.onnx import export_onnx, onnx_exportable
from strategies.production import build_production_model
from strategies.production.families import exportable_to_onnx as _exportable_to_onnx
from tests.artifacts import corpus_from_folder, fast_settings, quick_leaderboard


@pytest.fixture(scope="module")
def onnx_artifact(titanic, titanic_board, tmp_path_factory):
    """titanic's production model under require_onnx: trained without the words of its text columns."""
    out = tmp_path_factory.mktemp("titanic-onnx") / "production"
    return build_production_model(titanic.competition, titanic.dataset, [titanic_board], titanic_board.oof,
                                  titanic_board.score, out, fast_settings(require_onnx=True, search_trials=4,
                                                                          distill=False),
                                  time_budget_s=40, leaderboard_test=titanic_board.test)


def test_a_model_reading_words_says_it_does_not_export_and_require_onnx_ships_one_that_does(
        titanic_artifact, onnx_artifact, tmp_path):
    words = json.loads((titanic_artifact.out_dir / "schema.json").read_text())["texts"]
    assert "name" in words  # by default titanic's production model reads the words of its names
    card = json.loads((titanic_artifact.out_dir / "model_card.json").read_text())
    assert card["onnx"]["exportable"] is False and "words of text column(s)" in card["onnx"]["reason"]
    assert "--require-onnx" in card["onnx"]["reason"]
    assert "texts" not in json.loads((onnx_artifact.out_dir / "schema.json").read_text())
    card = json.loads((onnx_artifact.out_dir / "model_card.json").read_text())
    assert card["onnx"]["exportable"] is True and "convert to ONNX" in card["onnx"]["reason"]
    written = export_onnx(onnx_artifact.out_dir, tmp_path / "model.onnx")
    assert written.path.is_file() and written.path.stat().st_size > 0
    assert "| ONNX export | yes" in (onnx_artifact.out_dir / "model_card.md").read_text()


def test_a_candidate_that_cannot_be_exported_is_passed_over(onnx_artifact, tmp_path):
    """An AutoGluon candidate (judged from its production.json) is skipped for the next that exports."""
    chosen = onnx_artifact.chosen
    autogluon = tmp_path / "autogluon"
    shutil.copytree(onnx_artifact.out_dir, autogluon)
    manifest = json.loads((autogluon / "production.json").read_text())
    manifest["runtime"] = {"kind": "autogluon", "path": "model/autogluon"}
    (autogluon / "production.json").write_text(json.dumps(manifest))
    assert onnx_exportable(autogluon)[0] is False
    better = type(chosen)(name="autogluon/best-deploy", family="autogluon", folder=autogluon)
    kept = type(chosen)(name=chosen.name, family=chosen.family, folder=onnx_artifact.out_dir)
    assert [c.name for c in _exportable_to_onnx([better, kept])] == [chosen.name]


def test_a_table_with_dates_fails_the_phase_clearly_under_require_onnx(build_corpus, tmp_path):
    corpus = corpus_from_folder(build_corpus("rain_forecast", rows=400))
    assert corpus.competition.dates  # the date column is read as a date, which ONNX cannot parse
    board = quick_leaderboard(corpus)
    out = tmp_path / "production"
    with pytest.raises(BudgetError) as failure:
        build_production_model(corpus.competition, corpus.dataset, [board], board.oof, board.score, out,
                               fast_settings(require_onnx=True, search_trials=2, distill=False), time_budget_s=30)
    assert "require_onnx" in failure.value.message and "date column" in failure.value.message
    assert "--require-onnx" in failure.value.fix and not out.exists()


def test_the_command_line_flag_sets_the_setting_and_its_absence_keeps_the_config():
    from agent.run.pipeline import RunOptions, resolve_settings

    flagged = RunOptions(source="x", production={"require_onnx": True, "latency_ms": None})
    assert resolve_settings(flagged, "no-such-competition")[0].production.require_onnx is True
    plain = RunOptions(source="x", production={"require_onnx": None})
    assert resolve_settings(plain, "no-such-competition")[0].production.require_onnx is False
