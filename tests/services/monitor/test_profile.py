"""The reference profile: what it records, how it round-trips, and how it refuses bad files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from agent.errors import InputError
from agent.runtime.profile import MAX_KNOWN_VALUES
from agent.services.monitor import Profile, profile_frame


def test_numeric_feature_keeps_quantile_bins(reference, diamonds_split):
    train = diamonds_split[0]
    carat = reference.features["carat"]
    assert carat.kind == "numeric" and carat.missing_rate == 0.0
    assert carat.min == train["carat"].min() and carat.max == train["carat"].max()
    assert len(carat.proportions) == len(carat.edges) + 1
    assert sum(carat.proportions) == pytest.approx(1.0)
    assert carat.edges == sorted(carat.edges)
    assert max(carat.proportions) < 0.2  # ten roughly equal bins (carat has ties, so not exactly 10%)


def test_categorical_feature_keeps_shares_and_other_bucket():
    frame = pd.DataFrame({"city": ["a"] * 50 + ["b"] * 30 + ["c"] * 15 + ["d"] * 4 + [None]})
    city = profile_frame(frame, ["city"], max_categories=2).features["city"]
    assert city.kind == "categorical"
    assert city.missing_rate == pytest.approx(0.01)
    assert city.categories == pytest.approx({"a": 50 / 99, "b": 30 / 99})
    assert city.other == pytest.approx(19 / 99)
    assert sorted(city.other_values) == ["c", "d"] and city.values_complete


def test_booleans_and_numeric_labels_are_categories_compared_by_value():
    frame = pd.DataFrame({"flag": [True, False, True, True]})
    flag = profile_frame(frame, ["flag"]).features["flag"]
    assert flag.kind == "categorical" and flag.categories == {"true": 0.75, "false": 0.25}


def test_too_many_values_to_list_marks_the_profile_incomplete():
    frame = pd.DataFrame({"code": [f"c{i}" for i in range(MAX_KNOWN_VALUES + 100)]})
    code = profile_frame(frame, ["code"], max_categories=10).features["code"]
    assert not code.values_complete and code.other_values == []


def test_all_missing_numeric_column():
    frame = pd.DataFrame({"x": [np.nan] * 5, "y": range(5)})
    x = profile_frame(frame, ["x", "y"]).features["x"]
    assert x.missing_rate == 1.0 and x.proportions == [] and x.min is None


def test_save_and_load_round_trip(reference, tmp_path):
    path = reference.save(tmp_path / "reference_profile.json")
    assert [p.name for p in tmp_path.iterdir()] == ["reference_profile.json"]
    assert Profile.load(path) == reference
    content = json.loads(path.read_text())
    assert content["format"] == "podium.reference_profile" and content["rows"] == 30_000


def test_profile_of_missing_columns_is_refused(diamonds_split):
    with pytest.raises(InputError, match="no such column"):
        profile_frame(diamonds_split[0], ["carat", "colour"])


@pytest.mark.parametrize("content, message", [
    ("not json", "not valid JSON"),
    ('{"rows": 3}', "not a podium reference profile"),
    ('{"format": "podium.reference_profile", "version": 99, "rows": 1, "features": {}}', "version 99"),
    ('{"format": "podium.reference_profile", "version": 1, "rows": 1, "features": {"x": {"bad": 1}}}', "damaged"),
])
def test_bad_profile_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "reference_profile.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message) as caught:
        Profile.load(path)
    assert str(path) in caught.value.message


def test_missing_profile_says_what_to_do(tmp_path):
    with pytest.raises(InputError, match="reference profile is missing") as caught:
        Profile.load(tmp_path / "reference_profile.json")
    assert "export" in caught.value.fix
