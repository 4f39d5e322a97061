"""The drift picture: PSI per feature as horizontal bars, coloured by status, with the threshold lines.

It draws whatever has the shape of a drift report (the Protocols below), so drift.py imports this module and
this module never imports drift.py.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from agent.atomic import write_bytes

MAX_BARS = 40
COLOURS = {"ok": "#4c9a5b", "warning": "#e0a100", "drift": "#c8372d"}


class PlottedFeature(Protocol):
    """One bar: a feature's name, its PSI (None: not measured) and its status (ok, warning, drift)."""

    @property
    def name(self) -> str: ...
    @property
    def psi(self) -> float | None: ...
    @property
    def status(self) -> str: ...


class PlottedReport(Protocol):
    """What the picture shows of a drift report (agent.services.monitor.drift.DriftReport has it)."""

    @property
    def features(self) -> Sequence[PlottedFeature]: ...
    @property
    def thresholds(self) -> Mapping[str, float]: ...
    @property
    def verdict(self) -> str: ...
    @property
    def rows(self) -> int: ...


def write_psi_plot(report: PlottedReport, path: str | os.PathLike) -> Path:
    """Render the PNG in memory on an Agg canvas (no pyplot, no global backend), then move it into place."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = sorted(report.features, key=lambda f: f.psi or 0.0, reverse=True)[:MAX_BARS][::-1]
    figure = Figure(figsize=(8, max(2.5, 0.3 * len(shown) + 1.5)), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    values = [f.psi or 0.0 for f in shown]
    axes.barh([f.name for f in shown], values, color=[COLOURS[f.status] for f in shown])
    drift_line, warning_line = report.thresholds["psi_drift"], report.thresholds["psi_warning"]
    axes.axvline(drift_line, color=COLOURS["drift"], linestyle="-", label=f"drift {drift_line:g}")
    axes.axvline(warning_line, color=COLOURS["warning"], linestyle="--", label=f"warning {warning_line:g}")
    axes.set_xlim(0, max([drift_line * 1.2, *values]) * 1.05)
    axes.set_xlabel("population stability index (PSI)")
    more = f" (top {MAX_BARS} of {len(report.features)})" if len(report.features) > MAX_BARS else ""
    axes.set_title(f"Drift per feature{more}: verdict {report.verdict}, {report.rows} new rows")
    axes.legend(loc="lower right")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return write_bytes(path, buffer.getvalue())
