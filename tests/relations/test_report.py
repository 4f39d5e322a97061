"""The report's side-tables section: the relations as a small table, the tables left out, and which joined
columns the production model leaned on; no section for a competition of train and test alone."""

from __future__ import annotations

from pathlib import Path

from agent.report.inputs import RunInputs
from agent.report.relations import relations_section

MANIFEST = {"relations": {"relations": [
    {"table": "orders", "parent": "train/test", "on": [["customer_id", "customer_id"]], "kind": "history",
     "time": "at", "coverage": {"train": 1.0, "test": 0.9}, "columns": ["orders.count", "orders.amount.mean"],
     "status": "joined"},
    {"table": "stores", "parent": "train/test", "on": [["store", "id"]], "kind": "lookup",
     "coverage": {"train": 0.7, "test": 0.7}, "status": "skipped", "reason": "interrupted at the deadline"}],
    "unrelated": {"decoy": "no column ... left out"}, "columns": 2, "seconds": 0.5}}


def test_the_section_lists_relations_and_the_joined_features_that_mattered():
    inputs = RunInputs(path=Path("."), manifest=MANIFEST)
    inputs.card = {"top_features": [{"feature": "x", "importance": 0.2, "std": 0.0},
                                    {"feature": "orders.amount.mean", "importance": 0.05, "std": 0.01}]}
    section = relations_section(inputs)
    relations, unrelated = section.blocks[1], section.blocks[2]
    assert relations.rows[0][:5] == ("orders", "train/test", "customer_id", "history by at",
                                     "train 100.0% / test 90.0%")
    assert relations.rows[1][-1] == "skipped (interrupted at the deadline)"
    assert unrelated.rows == [("decoy", "no column ... left out")]
    assert "orders.amount.mean (0.05)" in section.blocks[-1].text and "x (" not in section.blocks[-1].text


def test_no_section_without_side_tables():
    assert relations_section(RunInputs(path=Path("."), manifest={})) is None
