"""Without a sample submission (a database rarely holds one), podium builds the one Kaggle would ship."""

from __future__ import annotations

import pandas as pd
import pytest

from agent.competition.tables import build_sample_submission
from agent.errors import InputError

TRAIN = pd.DataFrame({"id": [1, 2, 3, 4], "x": [0.1, 0.2, 0.3, 0.4], "label": ["a", "b", "b", "b"]})
TEST = pd.DataFrame({"id": [7, 5, 6], "x": [0.5, 0.6, 0.7]})


def test_the_test_ids_and_the_target_filled_with_its_most_frequent_value():
    sample = build_sample_submission(TRAIN, TEST, {})
    assert sample.to_dict("list") == {"id": [7, 5, 6], "label": ["b", "b", "b"]}
    declared = build_sample_submission(TRAIN.rename(columns={"id": "key"}), TEST.rename(columns={"id": "key"}),
                                       {"id": "key", "target": "label"})
    assert list(declared.columns) == ["key", "label"]


@pytest.mark.parametrize(("train", "test", "declared", "message"), [
    (TRAIN.assign(extra=1), TEST, {}, r"target is unknown: train has 2 column\(s\) test lacks"),
    (TRAIN, TEST, {"target": "y"}, "The target 'y' is not a column of train"),
    (TRAIN.rename(columns={"id": "key"}), TEST.rename(columns={"id": "key"}), {}, "has no id column"),
])
def test_what_cannot_be_known_asks_for_a_declaration(train, test, declared, message):
    with pytest.raises(InputError, match=message) as caught:
        build_sample_submission(train, test, declared)
    assert "competition.yaml" in caught.value.message
