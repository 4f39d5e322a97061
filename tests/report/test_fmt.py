"""The report's formatters take anything a manifest may hold and never raise."""

from __future__ import annotations

import math

import pytest

from agent.report import fmt


@pytest.mark.parametrize("value", [None, True, "0.5", math.nan, math.inf, [1], {"a": 1}])
def test_unusable_numbers_become_a_dash(value):
    assert fmt.number(value) is None
    assert fmt.score(value) == fmt.seconds(value) == fmt.ms(value) == fmt.size(value) == fmt.DASH


def test_numbers_read_naturally():
    assert fmt.score(0.866543815) == "0.86654" and fmt.score(123456.789) == "123,456.79"
    assert fmt.seconds(0.004) == "0.00 s" and fmt.seconds(41.372) == "41.4 s" and fmt.seconds(600) == "10.0 min"
    assert fmt.size(17513) == "17.5 kB" and fmt.size(48_000_000) == "48 MB" and fmt.size(12) == "12 bytes"
    assert fmt.ms(0.1641) == "0.164 ms" and fmt.signed(-0.02046) == "-0.02046"


def test_long_and_nested_values_are_shortened_to_one_line():
    assert fmt.plain("a\nb   c") == "a b c"
    assert len(fmt.plain("x" * 1000, limit=50)) == 50
    assert fmt.listing(list(range(20)), limit=3) == "0, 1, 2 (+17 more)"
    measured = {"auc": 0.45512, "examples": ["a", "b", "c", "d"]}
    assert fmt.measured(measured) == "auc=0.4551; examples=[a, b, c (+1 more)]"
