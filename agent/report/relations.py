"""The side tables related to the rows (the manifest's `relations`): which, on which keys, how many rows found
them, the columns they brought, and which of those the production model leaned on."""

from __future__ import annotations

from agent.report import fmt
from agent.report.document import Section, Table, Text
from agent.report.inputs import RunInputs


def relations_section(inputs: RunInputs) -> Section | None:
    """None for a competition of train and test alone."""
    record = fmt.mapping(inputs.manifest.get("relations"))
    relations = [r for r in record.get("relations") or [] if isinstance(r, dict)]
    unrelated = fmt.mapping(record.get("unrelated"))
    if not relations and not unrelated:
        return None
    section = Section("Side tables", "relations")
    joined = [r for r in relations if r.get("status") == "joined"]
    section.add(Text(f"{len(joined)} side table(s) joined, {fmt.plain(record.get('columns'))} column(s) added in "
                     f"{fmt.seconds(record.get('seconds'))}; the SQL of each is in manifest.json (`relations`) and in "
                     "the production model's schema.json."))
    rows = []
    for r in relations:
        coverage = fmt.mapping(r.get("coverage"))
        columns = r.get("columns") or []
        rows.append((fmt.plain(r.get("table")), fmt.plain(r.get("parent")),
                     " + ".join(str(p) for p, *_ in r.get("on") or []), fmt.plain(r.get("kind"))
                     + (f" by {r['time']}" if r.get("time") else ""),
                     " / ".join(f"{role} {fmt.share(v)}" for role, v in coverage.items()),
                     f"{len(columns)}: {fmt.listing(columns, 6)}" if columns else "-",
                     fmt.plain(r.get("status")) + (f" ({r['reason']})" if r.get("reason") else "")))
    if rows:
        section.add(Table(("table", "joined to", "key", "kind", "keys found", "columns", "status"), rows,
                          caption="relations, with the share of rows whose key the side table holds"))
    if unrelated:
        section.add(Table(("table", "left out because"), [(name, fmt.plain(why)) for name, why in unrelated.items()],
                          caption="tables related to nothing"))
    brought = {c for r in joined for c in r.get("columns") or []}
    top = [f for f in (inputs.card or {}).get("top_features") or [] if isinstance(f, dict)]
    used = [f for f in top if f.get("feature") in brought]
    if top:
        section.add(Text(
            "Joined columns among the production model's top features: "
            + (", ".join(f"{f['feature']} ({fmt.number(f.get('importance')) or 0:.4g})" for f in used)
               if used else "none") + ".", "note"))
    return section
