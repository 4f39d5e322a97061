"""Reading new data: CSV, JSON lines with plain or wrapped rows, and clear errors for anything else."""

from __future__ import annotations

import json

import pytest

from agent.errors import InputError
from agent.services.monitor import read_new_data


def test_csv(tmp_path):
    path = tmp_path / "new.csv"
    path.write_text("a,b\n1,x\n2,y\n")
    frame = read_new_data(path)
    assert list(frame.columns) == ["a", "b"] and len(frame) == 2


def test_json_lines_plain_and_wrapped_rows_mix(tmp_path):
    path = tmp_path / "requests.log"
    lines = [{"a": 1, "b": "x"},
             {"rows": [{"a": 2, "b": "y"}, {"a": 3, "b": None}], "received": "2025-01-01T00:00:00Z"},
             {"rows": {"a": 4, "b": "z"}},
             [{"a": 5, "b": "w"}]]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    frame = read_new_data(path)
    assert frame["a"].tolist() == [1, 2, 3, 4, 5]
    assert frame["b"].isna().sum() == 1


def test_json_detected_without_suffix_and_whole_document(tmp_path):
    path = tmp_path / "batch"
    path.write_text(json.dumps({"rows": [{"a": 1}, {"a": 2}]}, indent=2))
    assert read_new_data(path)["a"].tolist() == [1, 2]


@pytest.mark.parametrize("content, message, where", [
    ('{"a": 1}\n{"a": \n', "Line 2 is not valid JSON", "line 2"),
    ('{"a": 1}\n42\n', "Expected a JSON object per row, found int", "line 2"),
    ('{"rows": [1, 2]}\n{"a": 1}\n', "Expected a JSON object per row", "line 1"),
])
def test_bad_json_lines_name_the_line(tmp_path, content, message, where):
    path = tmp_path / "requests.jsonl"
    path.write_text(content)
    with pytest.raises(InputError, match=message) as caught:
        read_new_data(path)
    assert caught.value.where.endswith(where)


@pytest.mark.parametrize("name, content, message", [
    ("empty.csv", b"", "is empty"),
    ("header.csv", b"a,b\n", "holds no rows"),
    ("rows.jsonl", b"\n\n", "holds no rows"),
    ("latin1.csv", b"a,b\n\xff\xfe,1\n", "not a readable CSV table"),
    ("latin1.jsonl", b'{"a": "\xff"}\n', "not UTF-8"),
])
def test_empty_or_unreadable_files(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as caught:
        read_new_data(path)
    assert str(path) in caught.value.message


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist") as caught:
        read_new_data(tmp_path / "nope.csv")
    assert caught.value.where == str(tmp_path / "nope.csv")


def test_json_nested_too_deeply_names_its_line(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text('{"a": 1}\n' + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(InputError, match="Line 2 is not valid JSON \\(it nests arrays or objects too deeply\\)") \
            as caught:
        read_new_data(path)
    assert caught.value.where == f"{path}, line 2"

