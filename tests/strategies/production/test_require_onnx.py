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


def test_the_card_says_whether_the_model_exports_and_it_does(titanic_artifact, tmp_path):
    card = json.loads((titanic_artifact.out_dir / "model_card.json").read_text())
    assert card["onnx"]["exportable"] is True and "convert to ONNX" in card["onnx"]["reason"]
    written = export_onnx(titanic_artifact.out_dir, tmp_path / "model.onnx")
    assert written.path.is_file() and written.path.stat().st_size > 0
    assert "| ONNX export | yes" in (titanic_artifact.out_dir / "model_card.md").read_text()


def test_a_candidate_that_cannot_be_exported_is_passed_over(titanic_artifact, tmp_path):
    """An AutoGluon candidate (judged from its production.json) is skipped for the next that exports."""
    chosen = titanic_artifact.chosen
    autogluon = tmp_path / "autogluon"
    shutil.copytree(titanic_artifact.out_dir, autogluon)
    manifest = json.loads((autogluon / "production.json").read_text())
    manifest["runtime"] = {"kind": "autogluon", "path": "model/autogluon"}
    (autogluon / "production.json").write_text(json.dumps(manifest))
    assert onnx_exportable(autogluon)[0] is False
    better = type(chosen)(name="autogluon/best-deploy", family="autogluon", folder=autogluon)
    kept = type(chosen)(name=chosen.name, family=chosen.family, folder=titanic_artifact.out_dir)
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
