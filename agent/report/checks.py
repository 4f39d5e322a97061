"""The data checks' findings (quality.json), most serious first."""

from __future__ import annotations

from agent.report import fmt
from agent.report.document import Section, Table, Text
from agent.report.inputs import RunInputs

SEVERITIES = ("error", "warning", "info")


def checks_section(inputs: RunInputs) -> Section:
    section = Section("Data checks", "checks")
    quality = inputs.quality
    if quality is None:
        reason = inputs.problem("quality.json", "not produced: the run stopped before the data checks, or "
                                "was made by a podium without them")
        return section.add(Text(f"Data checks: {reason}.", "missing"))
    counts = fmt.mapping(quality.get("counts"))
    findings = [f for f in quality.get("findings") or [] if isinstance(f, dict)]
    rows = fmt.mapping(quality.get("rows"))
    verdict = "passed" if quality.get("passed") else "did not pass (errors stopped the run)"
    allowed = quality.get("allow") or []
    section.add(Text(
        f"The checks {verdict}: {counts.get('error', 0)} error(s), {counts.get('warning', 0)} warning(s), "
        f"{counts.get('info', 0)} note(s) on {fmt.plain(rows.get('train'))} train and {fmt.plain(rows.get('test'))} "
        f"test rows, {fmt.plain(quality.get('features'))} features, in "
        f"{fmt.seconds(fmt.mapping(quality.get('seconds')).get('total'))}"
        + (f". Allowed to fail: {fmt.listing(allowed)}" if allowed else "") + "."))
    if not findings:
        section.add(Text("No findings: every check passed quietly.", "note"))
    for severity in SEVERITIES:
        group = [f for f in findings if f.get("severity") == severity]
        if not group:
            continue
        table_rows = []
        for finding in group:
            check = fmt.plain(finding.get("check"))
            if severity == "error" and finding.get("allowed"):
                check += " (allowed)"
            table_rows.append((check, fmt.listing(finding.get("columns"), 8), fmt.plain(finding.get("message"), 400),
                               fmt.measured(finding.get("measured"))))
        section.add(Table(("check", "columns", "finding", "measured"), table_rows,
                          caption=f"{severity}: {len(group)}", row_classes=(severity,) * len(group)))
    unknown = [f for f in findings if f.get("severity") not in SEVERITIES]
    if unknown:
        section.add(Text(f"{len(unknown)} finding(s) with an unknown severity were left out.", "note"))
    checks = quality.get("checks")
    if checks:
        section.add(Text(f"Checks run: {fmt.listing(checks, 40)}. Every number is in quality.json.", "note"))
    return section
