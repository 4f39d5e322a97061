"""How the test set was drawn, inferred from train and test; the folds that mirror it; dates read as dates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agent.competition.dates import detect_dates, expand, expand_record, part_names
from agent.competition.split import (
    GROUP,
    GROUP_TIME,
    RANDOM,
    TIME,
    Split,
    infer_split,
    parse_split,
    structured_folds,
    time_values,
)
from agent.errors import InputError


def table(n: int = 600, seed: int = 0, people: int = 60) -> pd.DataFrame:
    """A panel: `person` repeats, `day` runs over 2019-2021 as text, `x` is noise, `year` a number."""
    rng = np.random.default_rng(seed)
    days = pd.Timestamp("2019-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 1000, n)), unit="D")
    frame = pd.DataFrame({"person": rng.integers(0, people, n), "day": days.strftime("%d/%m/%Y"),
                          "x": rng.normal(size=n), "colour": rng.choice(["red", "blue"], n)})
    frame["year"] = days.year
    frame["y"] = frame["x"] + (frame["colour"] == "red")
    return frame


def infer(train: pd.DataFrame, test: pd.DataFrame) -> Split:
    features = [c for c in train.columns if c != "y"]
    return infer_split(train, test, features, detect_dates(train, test, features))


def test_a_test_set_later_in_time_is_a_time_split_by_the_date():
    frame = table()
    split = infer(frame.iloc[:450], frame.iloc[450:])
    assert (split.kind, split.column) == (TIME, "day")  # the date wins over the year, which also moves on
    assert split.evidence["test_after_train_share"] >= 0.9 and split.evidence["format"] == "%d/%m/%Y"


def test_interleaved_time_and_shared_people_stay_random():
    frame = table().sample(frac=1.0, random_state=1).reset_index(drop=True)
    assert infer(frame.iloc[:450], frame.iloc[450:]).kind == RANDOM


def test_unseen_people_are_a_grouped_split_and_seen_people_are_not():
    frame = table().sample(frac=1.0, random_state=2).reset_index(drop=True)
    unseen = frame["person"] >= 45
    split = infer(frame[~unseen], frame[unseen])
    assert (split.kind, split.column) == (GROUP, "person") and split.evidence["test_unseen_share"] == 1.0
    # near miss: a quarter of test's people are new: still one population, random folds
    mixed = frame[~unseen].sample(frac=1.0, random_state=3)
    test = pd.concat([mixed.iloc[:100], frame[unseen].iloc[:30]])
    assert infer(mixed.iloc[100:], test).kind == RANDOM


def test_a_category_every_test_row_shares_is_no_group_and_a_measurement_is_no_group():
    frame = table().sample(frac=1.0, random_state=4).reset_index(drop=True)
    frame["x"] = frame["x"].round(6)  # floats: unseen in test, yet a measurement, not an entity
    assert infer(frame.iloc[:450], frame.iloc[450:]).kind == RANDOM


def test_new_people_later_in_time_are_group_time():
    frame = table()
    late_new = (frame.index >= 450) & (frame["person"] >= 45)
    early_old = (frame.index < 450) & (frame["person"] < 45)
    split = infer(frame[early_old], frame[late_new])
    assert (split.kind, split.column, split.time) == (GROUP_TIME, "person", "day")


def test_time_folds_are_contiguous_blocks_in_time_order():
    frame = table(800)
    split = Split(TIME, "day")
    folds = structured_folds(split, frame, frame["y"].to_numpy(), "regression", 8, 0, {"day": "%d/%m/%Y"})
    moments = time_values(frame, "day", {"day": "%d/%m/%Y"}).to_numpy()
    assert sorted(set(folds)) == list(range(8))
    for k in range(7):  # every moment of block k comes before every moment of block k + 1
        assert moments[folds == k].max() < moments[folds == k + 1].min()
    assert np.bincount(folds).min() > 0.5 * len(frame) / 8


def test_group_folds_never_split_a_person_and_group_time_blocks_follow_first_appearance():
    frame = table(800)
    y = (frame["y"] > 0).astype(int).to_numpy()
    folds = structured_folds(Split(GROUP, "person"), frame, y, "binary", 8, 0, {})
    assert pd.Series(folds).groupby(frame["person"]).nunique().eq(1).all()
    blocks = structured_folds(Split(GROUP_TIME, "person", "day"), frame, y, "binary", 4, 0, {"day": "%d/%m/%Y"})
    first = time_values(frame, "day", {"day": "%d/%m/%Y"}).groupby(frame["person"]).min()
    block_of = pd.Series(blocks).groupby(frame["person"]).agg(["min", "max"])
    assert (block_of["min"] == block_of["max"]).all()
    for k in range(3):
        now, then = block_of.index[block_of["min"] == k], block_of.index[block_of["min"] == k + 1]
        assert first[now].max() <= first[then].min()


def test_a_split_is_written_as_a_user_would_write_it():
    assert parse_split("time:date") == Split(TIME, "date")
    assert parse_split("group_time:shop,day") == Split(GROUP_TIME, "shop", "day")
    assert parse_split("random") == Split(RANDOM)
    for wrong in ("time", "groups:a", "group:a,b", "group_time:a"):
        with pytest.raises(InputError, match="Unknown split"):
            parse_split(wrong)


def test_dates_are_parsed_with_their_format_and_become_parts_in_training_and_serving_alike():
    train = pd.DataFrame({"when": ["2017-01-01T06:00:42Z", "2017-03-05T23:10:00Z", None],
                          "code": ["2017", "2018", "2019"], "n": [1.0, 2.0, 3.0]})
    dates = detect_dates(train, train.head(1), list(train.columns))
    assert dates == {"when": "%Y-%m-%dT%H:%M:%S%z"}  # a year written as text is a code, not a date
    expanded = expand(train, dates)
    assert list(expanded.columns) == part_names("when", dates["when"]) + ["code", "n"]
    assert expanded.loc[1, "when.dayofweek"] == 6.0 and expanded.loc[1, "when.hour"] == 23.0
    assert np.isnan(expanded.loc[2, "when.days"])
    served = expand_record({"when": "2017-03-05T23:10:00Z", "code": "2018", "n": 2.0}, dates)
    assert {k: served[k] for k in expanded.columns} == pytest.approx(expanded.iloc[1].to_dict())
    with pytest.raises(InputError, match="expects a date written as"):
        expand_record({"when": "yesterday"}, dates)


@pytest.mark.parametrize("name", sorted(__import__("devcorpus").TASKS))
def test_every_corpus_competition_is_inferred_as_it_was_drawn(name):
    """The development corpus' exchangeable competitions infer random (nothing changes for them); those drawn
    later in time or by entities infer just that, on the column they were drawn by."""
    import devcorpus
    from agent.arena.prepare import held_out_rows

    task = devcorpus.TASKS[name]
    frame = devcorpus.load(name, rows=3000).dropna(subset=[task.target]).reset_index(drop=True)
    drawn = parse_split(task.split)
    held = held_out_rows(frame, drawn, len(frame) // 4, 0)
    train, test = frame[~held], frame[held].drop(columns=[task.target])
    split = infer(train.rename(columns={task.target: "y"}), test)
    if split.kind == GROUP_TIME and drawn.kind == TIME:  # later in time, and by raters train never saw (bursts)
        assert split.time == drawn.column and name == "movie_ratings", split.evidence
        return
    assert (split.kind, split.column) == (drawn.kind, drawn.column), split.evidence
