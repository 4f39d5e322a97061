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
    _plan(section, m)
    return section


def _plan(section: Section, manifest: dict) -> None:
    """The run's plan, planned against actual (agent/run/planner.py), and each submission written."""
    plan = fmt.mapping(manifest.get("plan"))
    pieces = [p for p in _items(plan.get("pieces")) if isinstance(p, dict)]
    if not pieces:
        return
    rows = []
    for piece in pieces:
        actual = fmt.mapping(piece.get("actual"))
        ran = actual.get("start") is not None and actual.get("end") is not None
        rows.append((fmt.plain(piece.get("name")), f"{_at(piece.get('start'))} - {_at(piece.get('deadline'))}",
                     "yes" if piece.get("guaranteed") else "",
                     f"{_at(actual.get('start'))} - {_at(actual.get('end'))}" if ran else "",
                     fmt.plain(actual.get("status") or "not run"), fmt.plain(actual.get("note") or "", 160)))
    section.add(Table(("piece", "planned (s into the run)", "guaranteed", "actual", "status", "note"), rows,
                      caption=f"The run's plan for {_at(plan.get('time_limit'))} s on {plan.get('cpus')} CPUs",
                      row_classes=tuple("failed" if r[4] in ("failed", "overran") else "" for r in rows)))
    written = [w for w in _items(manifest.get("submissions")) if isinstance(w, dict)]
    if written:
        listed = "; ".join(f"at {_at(w.get('at_seconds'))} s from {fmt.plain(w.get('source'))}" for w in written)
        section.add(Text(f"submission.csv was written {len(written)} time(s), each better out of fold: {listed}.",
                         "note"))


def _items(value) -> list:
    return value if isinstance(value, list) else []


def _at(value) -> str:
    x = fmt.number(value)
    return fmt.DASH if x is None else f"{x:.1f}"
