"""Drift against the reference: an unshifted sample passes, a shifted copy is flagged on the right features."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from agent.config import MonitorSettings
from agent.errors import InputError
from agent.services.monitor import compare, profile_frame, psi


def test_psi_is_zero_for_equal_shares_and_grows_with_shift():
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    expected = 0.3 * np.log(0.8 / 0.5) + (-0.3) * np.log(0.2 / 0.5)
    assert psi([0.5, 0.5], [0.8, 0.2]) == pytest.approx(expected)
    assert psi([0.5, 0.5], [0.9, 0.1]) > psi([0.5, 0.5], [0.8, 0.2])


def test_unshifted_sample_is_ok(reference, unshifted):
    report = compare(reference, unshifted)
    assert report.verdict == "ok"
    assert max(f.psi for f in report.features) < 0.05
    assert all(f.unseen_share == 0.0 for f in report.features if f.kind == "categorical")


def test_shifted_copy_drifts_on_the_shifted_features(reference, shifted):
    report = compare(reference, shifted)
    assert report.verdict == "drift"
    assert {f.name for f in report.drifted} == {"carat", "cut"}
    assert {f.name for f in report.features[:2]} == {"carat", "cut"}  # worst first
    carat = next(f for f in report.features if f.name == "carat")
    assert carat.psi >= 0.25 and any("PSI" in r for r in carat.reasons)
    untouched = [f for f in report.features if f.name in ("color", "clarity", "depth", "table")]
    assert all(f.status == "ok" for f in untouched)


def test_unseen_categories_and_missing_rates_are_measured(reference, unshifted):
    frame = unshifted.copy()
    frame.loc[:399, "color"] = "Z"          # 20% of rows hold a colour training never saw
    frame.loc[:599, "depth"] = np.nan       # 30% missing, none in training
    report = compare(reference, frame)
    color = next(f for f in report.features if f.name == "color")
    depth = next(f for f in report.features if f.name == "depth")
    assert color.unseen_share == pytest.approx(0.2) and color.status == "drift"
    assert depth.missing_change == pytest.approx(0.3) and depth.status == "drift"
    assert any("missing-rate change" in r for r in depth.reasons)


def test_text_in_a_numeric_column_counts_as_missing(reference, unshifted):
    frame = unshifted.copy()
    frame["carat"] = frame["carat"].astype(object)
    frame.loc[:9, "carat"] = "n/a"
    carat = next(f for f in compare(reference, frame).features if f.name == "carat")
    assert carat.not_numeric == 10 and carat.missing_new == pytest.approx(10 / len(frame))


def test_categories_compare_across_types():
    reference = profile_frame(pd.DataFrame({"code": [1, 2, 3, 1] * 50, "flag": [True, False] * 100}),
                              ["code", "flag"], max_categories=5)
    # a request log may carry the numbers as strings, and True/False as "true"/"false"
    new = pd.DataFrame({"code": ["1", "2", "3", "1"] * 50, "flag": ["true", "false"] * 100})
    report = compare(reference, new)
    assert report.verdict == "ok"
    code, flag = (next(f for f in report.features if f.name == n) for n in ("code", "flag"))
    assert code.kind == "numeric" and code.not_numeric == 0 and code.psi == pytest.approx(0.0)
    assert flag.kind == "categorical" and flag.unseen_share == 0.0 and flag.psi == pytest.approx(0.0)


def test_thresholds_decide_the_verdict(reference, shifted):
    lenient = MonitorSettings(psi_warning=5.0, psi_drift=10.0)
    assert compare(reference, shifted, lenient).verdict == "ok"
    moderate = MonitorSettings(psi_warning=0.2, psi_drift=10.0)
    assert compare(reference, shifted, moderate).verdict == "warning"


def test_missing_columns_and_empty_frames_are_refused(reference, unshifted):
    with pytest.raises(InputError, match=r"lacks 2 feature column\(s\).*'carat', 'cut'") as caught:
        compare(reference, unshifted.drop(columns=["carat", "cut"]), where="new.csv")
    assert caught.value.where == "new.csv"
    with pytest.raises(InputError, match="no rows"):
        compare(reference, unshifted.iloc[:0])


def test_few_rows_and_extra_columns_are_noted(reference, unshifted):
    report = compare(reference, unshifted.iloc[:20].assign(extra=1))
    assert any("Only 20 new rows" in n for n in report.notes)
    assert any("'extra'" in n for n in report.notes)


def test_write_puts_json_and_png_in_place(reference, shifted, tmp_path):
    paths = compare(reference, shifted).write(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["drift.json", "drift.png"]
    content = json.loads(paths["json"].read_text())
    assert content["verdict"] == "drift" and set(content["drifted_features"]) == {"carat", "cut"}
    assert {"name", "psi", "unseen_share", "missing_change", "status", "reasons"} <= set(content["features"][0])
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(json.dumps(compare(reference, shifted).to_dict())) == content  # plain JSON types
