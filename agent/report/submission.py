"""What was submitted: the file, the model behind it, and what the server made of it."""

from __future__ import annotations

from pathlib import Path

from agent.report import fmt
from agent.report.document import Section, Table, Text
from agent.report.inputs import RunInputs

FIELDS = (("status", "status"), ("reference", "ref"), ("public score", "public_score"),
          ("private score", "private_score"), ("error", "error"), ("message", "message"),
          ("server", "endpoint"), ("submitted at", "submitted_at"), ("scored at", "scored_at"))


def submission_section(inputs: RunInputs) -> Section:
    m = inputs.manifest
    section = Section("Submission", "submission")
    path = _submission_file(inputs)
    validation = fmt.mapping(m.get("validation"))
    if path is None:
        section.add(Text("submission.csv: not produced (the run stopped before writing it).", "missing"))
    else:
        rows = _count_rows(path)
        section.add(Text(f"submission.csv: {rows} rows predicted by the leaderboard model "
                         f"({fmt.plain(validation.get('model') or 'ensemble')}, out-of-fold "
                         f"{fmt.plain(validation.get('metric'))} {fmt.score(validation.get('score'))})."))
    record = m.get("submission")
    if not isinstance(record, dict) or not record:
        section.add(Text("Not submitted: no submission was sent for this run (`podium submit RUN_DIR` sends it, "
                         "or `podium run ... --submit`).", "missing"))
        return section
    rows = []
    for label, key in FIELDS:
        value = record.get(key)
        if value is None and key in ("error", "private_score", "scored_at"):
            continue
        shown = fmt.score(value) if key.endswith("_score") and value is not None else fmt.plain(value, 400)
        rows.append((label, shown))
    if record.get("public_score") is None and record.get("status") not in (None, "ERROR", "failed"):
        rows.append(("note", "no public score recorded yet"))
    section.add(Table(("submission", "value"), rows,
                      row_classes=tuple("error" if r[0] == "error" else "" for r in rows)))
    return section


def _submission_file(inputs: RunInputs) -> Path | None:
    recorded = fmt.mapping(inputs.manifest.get("artifacts")).get("submission")
    for candidate in (inputs.path / "submission.csv", Path(recorded) if recorded else None):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


def _count_rows(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return f"{max(sum(1 for _ in handle) - 1, 0):,}"
    except OSError:
        return "unknown"
