"""Time per phase: a chart and a table, from the manifest's phase records (failed and unfinished ones too)."""

from __future__ import annotations

import logging

from agent.report import fmt
from agent.report.charts import Bar, phase_chart
from agent.report.document import Figure, Section, Table, Text
from agent.report.inputs import RunInputs

log = logging.getLogger("podium.report")
PHASES_PNG = "phase_timings.png"


def timings_section(inputs: RunInputs) -> Section:
    m = inputs.manifest
    section = Section("Time per phase", "timings")
    phases = {k: v for k, v in fmt.mapping(m.get("phases")).items() if isinstance(v, dict)}
    if not phases:
        return section.add(Text("Phase timings: not produced (no phase was recorded).", "missing"))
    rows, bars = [], []
    for name, record in phases.items():
        status = fmt.plain(record.get("status"))
        seconds = fmt.number(record.get("seconds"))
        extra = []
        if record.get("budget_seconds") is not None:
            extra.append(f"budget {fmt.seconds(record.get('budget_seconds'))}")
        if isinstance(record.get("findings"), dict):
            extra.append(", ".join(f"{v} {k}" for k, v in record["findings"].items()))
        rows.append((fmt.plain(name), status, fmt.seconds(seconds) if seconds is not None else "unfinished",
                     fmt.plain(record.get("started_at")), "; ".join(extra)))
        bars.append(Bar(fmt.plain(name), seconds or 0.0, status))
    total = fmt.number(m.get("seconds"))
    limit = fmt.number(m.get("time_limit"))
    try:
        section.add(Figure(PHASES_PNG, phase_chart(bars, limit), alt="Seconds spent in each phase of the run",
                           caption="Wall-clock seconds per phase (data loading runs beside Ray's start)"))
    except Exception as error:  # noqa: BLE001 - a chart is never worth the report
        log.warning("The phase chart failed: %s", error)
    section.add(Table(("phase", "status", "seconds", "started (UTC)", "details"), rows, numeric=(2,),
                      row_classes=tuple("failed" if r[1] == "failed" else "" for r in rows)))
    section.add(Text(f"Whole run: {fmt.seconds(total)} of a {fmt.seconds(limit)} time limit.", "note"))
    return section
