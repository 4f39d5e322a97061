"""agent/competition/texts.py and the schema's texts: free-text columns read as words, the same in training
and in serving."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from agent.competition.texts import MAX_WORDS, detect_texts, expand_text_record, expand_texts, part_names
from agent.runtime.schema import Schema

TITLES = ["Mr", "Mrs", "Miss", "Master"]


def passengers(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    surnames = [f"Surname{i}" for i in range(150)]
    names = [f"{rng.choice(surnames)}, {rng.choice(TITLES)}. Given{i}" for i in range(n)]
    frame = pd.DataFrame({
        "name": pd.Series(names, dtype=object),
        "ticket": pd.Series([f"T{i:05d}" for i in range(n)], dtype=object),  # an id: no word recurs
        "port": pd.Series(rng.choice(["S", "C", "Q"], n), dtype=object),     # a category
        "fare": rng.gamma(2.0, 10.0, n),
    })
    frame.loc[[3, 7], "name"] = [None, "   "]
    return frame


def test_only_free_text_is_read_as_words_and_its_recurring_words_are_kept():
    texts = detect_texts(passengers())
    assert list(texts) == ["name"]  # not the id, not the category, not the number
    assert set(w.lower() for w in TITLES) <= set(texts["name"])
    assert all(not w.startswith("given") for w in texts["name"])  # each given name is in one row only
    assert len(texts["name"]) <= MAX_WORDS


def test_a_table_and_its_rows_one_by_one_become_the_same_numbers():
    frame = passengers()
    texts = detect_texts(frame)
    sent = pd.concat([frame.iloc[:20], pd.DataFrame({"name": ["MR. NEWCOMER", 12.5, "Mrs\tMaster"],
                                                     "ticket": ["x"] * 3, "port": ["S"] * 3, "fare": [1.0] * 3})],
                     ignore_index=True)
    table = expand_texts(sent, texts)
    names = part_names("name", texts["name"])
    assert list(table.columns) == ["name", *names, "ticket", "port", "fare"]  # parts right after their column
    for r, record in enumerate(sent.to_dict("records")):
        one = expand_text_record(record, texts)
        np.testing.assert_array_equal(np.array([one[n] for n in names], dtype=float),
                                      table.loc[r, names].to_numpy(dtype=float))
    assert table.loc[3, names].isna().all() and table.loc[7, names].isna().all()  # missing and blank
    assert table.loc[20, "name.word.mr"] == 1.0 and table.loc[20, "name.words"] == 2  # case does not matter
    assert table.loc[22, ["name.word.mrs", "name.word.master", "name.word.miss"]].tolist() == [1.0, 1.0, 0.0]
    assert table.loc[21, "name.chars"] == len("12.5")  # a number in a text column is read as its text


def test_a_column_whose_parts_would_shadow_a_column_is_left_alone():
    frame = passengers()
    frame["name.chars"] = 1.0
    assert detect_texts(frame) == {}


def test_the_schema_derives_the_words_and_keeps_them_through_schema_json(tmp_path):
    frame = passengers()
    texts = detect_texts(frame)
    schema = Schema.infer(expand_texts(frame, texts), texts=texts)
    assert schema.input_names == ["name", "ticket", "port", "fare"]  # callers send the text, not its parts
    schema.write(tmp_path / "schema.json")
    read = Schema.read(tmp_path / "schema.json")
    assert read == schema and read.texts == texts
    row = read.derive({"name": "Smith, Master. Tom", "ticket": "T1", "port": "Q", "fare": 3.0})
    assert row["name.word.master"] == 1.0 and row["name.word.mr"] == 0.0 and row["name.words"] == 3
    derived = read.derive(frame.iloc[:5])
    assert list(derived.columns) == read.names
    again = read.derive(derived)  # rows derived twice (podium predict, then the model) are not doubled
    assert list(again.columns) == read.names and again.equals(derived)


def test_a_schema_without_words_writes_no_texts(tmp_path):
    schema = Schema.infer(passengers()[["port", "fare"]])
    schema.write(tmp_path / "schema.json")
    assert "texts" not in (tmp_path / "schema.json").read_text()


@pytest.mark.parametrize("value", [None, math.nan, "", "  ", pd.NA])
def test_every_kind_of_missing_text_gives_missing_parts(value):
    texts = {"name": ["mr", "mrs"]}
    row = expand_text_record({"name": value}, texts)
    assert all(math.isnan(row[n]) for n in part_names("name", texts["name"]))
    table = expand_texts(pd.DataFrame({"name": pd.Series([value, "Mr X"], dtype=object)}), texts)
    assert table.iloc[0, 1:].isna().all() and table.iloc[1]["name.word.mr"] == 1.0


def test_the_words_are_the_same_in_every_process():
    """Ties in how often words recur are broken by the word, not by the order a set happens to iterate in
    (which changes with each process's hash seed): the same data gives the same model."""
    import json
    import os
    import subprocess
    import sys

    # 50 words, each in 40 rows: which 32 are read is decided by ties
    script = ("import json, pandas as pd; from agent.competition.texts import detect_texts; "
              "text = pd.Series([f'w{i % 50} w{(i + 7) % 50} id{i}' for i in range(500)], dtype=object); "
              "print(json.dumps(detect_texts(pd.DataFrame({'text': text}))))")
    found = set()
    for seed in ("1", "2", "3"):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed})
        found.add(done.stdout)
    assert len(found) == 1 and len(json.loads(found.pop())["text"]) == MAX_WORDS
