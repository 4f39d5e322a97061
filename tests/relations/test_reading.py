"""Side tables are every other table file of the folder (CSV or Parquet, compressed or not), read with the same
bounds; a file that is not a table is reported and left out, a declared one that is not a table stops the run."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from agent.competition.relations.build import join_relations
from agent.competition.tables import read_competition
from agent.errors import InputError
from agent.sources.local import LocalSource


def _folder(tmp_path, declared=None):
    folder = tmp_path / "shop"
    folder.mkdir()
    pd.DataFrame({"id": [1, 2, 3], "store_id": [1, 2, 1], "y": [0, 1, 0]}).to_csv(folder / "train.csv", index=False)
    pd.DataFrame({"id": [4, 5], "store_id": [2, 1]}).to_csv(folder / "test.csv", index=False)
    pd.DataFrame({"id": [4, 5], "y": [0, 0]}).to_csv(folder / "sample_submission.csv", index=False)
    pd.DataFrame({"store_id": [1, 2], "size": [10.0, 20.0]}).to_csv(folder / "stores.csv.gz", index=False)
    pd.DataFrame({"store_id": [1, 1, 2], "v": [1, 2, 3]}).to_parquet(folder / "visits.parquet")
    (folder / "notes.csv").write_text("")
    (folder / "readme.csv").write_bytes(b"\x00\x01\x02 not a table \xff")
    if declared:
        (folder / "competition.yaml").write_text(yaml.safe_dump(declared))
    return folder


def _read(fetched):
    return read_competition(fetched.files["train"], fetched.files["test"], fetched.files["sample_submission"],
                            tables=fetched.tables, found=fetched.found)


def test_other_table_files_are_side_tables_and_non_tables_are_reported(tmp_path):
    fetched = LocalSource(_folder(tmp_path)).fetch()
    assert sorted(fetched.found) == ["notes", "readme", "stores", "visits"]
    data = _read(fetched)
    assert sorted(data.tables) == ["stores", "visits"]
    assert "empty" in data.skipped["notes"] and "readme" in data.skipped
    data = join_relations(data, fetched.relations, tmp_path / "relations")
    record = data.relations["record"]
    assert {r["table"]: r["kind"] for r in record["relations"]} == {"stores": "lookup", "visits": "history"}
    assert record["unrelated"]["notes"].startswith("not read as a table")
    assert data.train["stores.size"].tolist() == [10.0, 20.0, 10.0]


def test_a_declared_side_table_that_is_not_a_table_stops_the_run(tmp_path):
    folder = _folder(tmp_path, {"tables": {"extra": "notes.csv"}})
    fetched = LocalSource(folder).fetch()
    with pytest.raises(InputError, match="table 'extra' file is empty"):
        _read(fetched)


def test_a_bad_relations_section_names_the_key(tmp_path):
    folder = _folder(tmp_path, {"relations": {"stores": {"on": "store_id", "knd": "lookup"}}})
    fetched = LocalSource(folder).fetch()
    with pytest.raises(InputError, match="Unknown key 'knd'.*nearest known key is 'kind'"):
        join_relations(_read(fetched), fetched.relations, tmp_path / "relations")
