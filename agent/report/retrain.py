"""A retrain run's decision: which model ships, why, and both models' scores on the same holdout."""

from __future__ import annotations

from agent.report import fmt
from agent.report.document import Section, Table, Text
from agent.report.inputs import RunInputs


def retrain_section(inputs: RunInputs) -> Section | None:
    """None for runs that are not retrains; a failed retrain says that no decision was made."""
    m = inputs.manifest
    if m.get("kind") != "retrain":
        return None
    section = Section("Retrain decision", "retrain")
    record = fmt.mapping(m.get("retrain"))
    if not record.get("decision"):
        return section.add(Text("No decision: the retrain stopped before comparing the models "
                                "(see the problems above and podium.log).", "missing"))
    ships = {"retrained": "The retrained model ships", "current": "The current model stays"}
    section.add(Text(f"{ships.get(record['decision'], fmt.plain(record['decision']))}. Parent run: "
                     f"{fmt.plain(record.get('parent_run_id') or record.get('parent_run'))}."))
    for reason in record.get("reasons") or []:
        section.add(Text(fmt.plain(reason), "note"))
    metric = fmt.plain(record.get("metric"))
    rows = []
    for role in ("current", "retrained"):
        model = fmt.mapping(record.get(role))
        rows.append((role + (" (ships)" if role == record["decision"] else ""), fmt.plain(model.get("model")),
                     fmt.score(model.get("holdout_score")), fmt.score(model.get("validation_score")),
                     fmt.plain(model.get("path"))))
    better = "higher" if record.get("greater_is_better") else "lower"
    return section.add(Table(
        ("model", "name", f"holdout {metric}", "validation score", "where"), rows, numeric=(2, 3),
        caption=f"Both models scored on the same holdout rows of the new data ({better} is better)"))
