"""The report's own PNG charts (matplotlib's Agg canvas, no pyplot: nothing global, safe in any thread)."""

from __future__ import annotations

import io
from dataclasses import dataclass

MAX_BARS = 30
STATUS_COLOURS = {"succeeded": "tab:blue", "failed": "tab:red", "running": "tab:gray"}


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    group: str  # the colour: a strategy, or a phase's status


def score_chart(bars: list[Bar], metric: str, greater_is_better: bool | None) -> bytes:
    """OOF score per leaderboard candidate, best on top; the axis starts near the worst so differences show."""
    bars = bars[:MAX_BARS]
    groups = sorted({b.group for b in bars})
    palette = ["tab:orange", "tab:blue", "tab:purple", "tab:brown", "tab:cyan", "tab:olive", "tab:pink"]
    colours = {g: ("tab:green" if g == "ensemble" else palette[i % len(palette)]) for i, g in enumerate(groups)}
    values = [b.value for b in bars]
    low, high = min(values), max(values)
    pad = (high - low) * 0.15 or abs(high) * 0.05 or 1.0
    left = low - pad
    fig, ax = _figure(8.5, 1.4 + 0.3 * len(bars))
    y = list(range(len(bars)))[::-1]
    ax.barh(y, [v - left for v in values], left=left, color=[colours[b.group] for b in bars], edgecolor="k",
            linewidth=0.3)
    for yi, bar in zip(y, bars, strict=True):
        ax.text(bar.value, yi, f" {bar.value:.5g}", va="center", fontsize=7)
    ax.set_yticks(y, [_short(b.label) for b in bars], fontsize=7)
    ax.set_xlim(left, high + pad * 1.6)
    direction = {True: "higher is better", False: "lower is better"}.get(greater_is_better, "")
    ax.set_xlabel(f"out-of-fold {metric}" + (f" ({direction})" if direction else ""))
    handles = [_patch(colours[g], g) for g in groups]
    ax.legend(handles=handles, fontsize=7, loc="lower right")
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_title("Leaderboard candidates" + (f" (best {MAX_BARS})" if len(bars) == MAX_BARS else ""))
    return _png(fig)


def phase_chart(bars: list[Bar], time_limit: float | None) -> bytes:
    """Seconds per phase in run order, coloured by outcome, with the run's time limit for scale."""
    fig, ax = _figure(8.5, 1.3 + 0.32 * len(bars))
    y = list(range(len(bars)))[::-1]
    ax.barh(y, [b.value for b in bars], color=[STATUS_COLOURS.get(b.group, "tab:gray") for b in bars])
    for yi, bar in zip(y, bars, strict=True):
        ax.text(bar.value, yi, f" {bar.value:.1f} s", va="center", fontsize=7)
    ax.set_yticks(y, [b.label for b in bars], fontsize=8)
    longest = max([b.value for b in bars] + [time_limit or 0.0, 1.0])
    ax.set_xlim(0, longest * 1.15)
    if time_limit:
        ax.axvline(time_limit, color="red", linestyle="--", linewidth=1, label=f"time limit {time_limit:g} s")
    present = sorted({b.group for b in bars})
    handles = [_patch(STATUS_COLOURS.get(s, "tab:gray"), s) for s in present]
    legend_handles = handles + ([ax.lines[-1]] if time_limit else [])
    ax.legend(handles=legend_handles, fontsize=7, loc="lower right")
    ax.set_xlabel("seconds (wall clock)")
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_title("Time per phase")
    return _png(fig)


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, min(height, 12.0)), dpi=100)
    return fig, fig.add_subplot()


def _png(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _patch(colour: str, label: str):
    from matplotlib.patches import Patch

    return Patch(facecolor=colour, edgecolor="k", linewidth=0.3, label=label)


def _short(label: str, limit: int = 42) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
