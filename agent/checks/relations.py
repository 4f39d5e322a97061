"""Checks of the relations joined in (agent/competition/relations): keys that find nothing, and not equally in
train and test; lookups whose key repeats. A side column that leaks the target is caught by the leakage checks,
which examine the joined columns as every other feature."""

from __future__ import annotations

from agent.checks.context import CheckContext
from agent.checks.report import Finding

COVERAGE_GAP = 0.10  # train and test coverage further apart than this: the joined columns mean less in test


def check_relation_keys(ctx: CheckContext) -> list[Finding]:
    """Orphan keys by share in train and test, coverage that differs between them, repeated lookup keys."""
    findings = []
    for entry in ctx.relations.get("relations", []):
        if entry.get("status") != "joined" or set(entry.get("coverage", {})) != {"train", "test"}:
            continue
        table, columns = entry["table"], tuple(p for p, _ in entry["on"])
        train, test = entry["coverage"]["train"], entry["coverage"]["test"]
        measured = {"table": table, "train_orphan_share": round(1 - train, 4), "test_orphan_share": round(1 - test, 4)}
        if abs(train - test) > COVERAGE_GAP:
            findings.append(Finding(
                "relation_coverage", "warning",
                f"Keys of '{table}' are found for {train:.0%} of train rows but {test:.0%} of test rows: its joined "
                "columns are missing more often in the rows to predict than in those the models learn from (new "
                "entities, or a side table older than test); expect less from them than validation says",
                columns, measured))
        elif train < 1 or test < 1:
            findings.append(Finding(
                "relation_coverage", "info",
                f"{1 - train:.1%} of train rows and {1 - test:.1%} of test rows have a key '{table}' does not hold "
                "(orphans): their joined columns are missing", columns, measured))
        if entry["kind"] == "lookup" and entry.get("repeated_keys"):
            findings.append(Finding(
                "relation_repeated_keys", "warning",
                f"The lookup '{table}' holds {entry['repeated_keys']} key value(s) more than once: the first row of "
                "each is joined. If the table is a history, say so (`kind: history` under `relations:` in "
                "competition.yaml)", columns, {"table": table, "repeated_keys": entry["repeated_keys"]}))
    return findings
