"""report.md: the report as Markdown, figures linked from report_figures/ beside it."""

from __future__ import annotations

import re

from agent.report.document import Figure, Report, Table, Text

FIGURES_DIR = "report_figures"
_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")
_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape(text: str) -> str:
    """Text from the run as literal Markdown: no markup, no HTML, one line (tables need that).

    Angle brackets become entities (not backslash escapes, which some renderers pass through as HTML).
    """
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()).translate(_ENTITIES))


def render_markdown(report: Report) -> str:
    lines = [f"# {escape(report.title)}", "", "| | |", "|---|---|"]
    lines += [f"| {escape(k)} | {escape(v)} |" for k, v in report.summary]
    lines += ["", "Contents: " + " · ".join(f"[{escape(s.title)}](#{s.anchor})" for s in report.sections), ""]
    for section in report.sections:
        lines += [f'<a id="{section.anchor}"></a>', "", f"## {escape(section.title)}", ""]
        for block in section.blocks:
            lines += _block(block) + [""]
    return "\n".join(lines).rstrip() + "\n"


def _block(block) -> list[str]:
    if isinstance(block, Text):
        if block.kind == "pre":
            fence = "~~~~"
            return [fence, block.text.replace(fence, "~ ~ ~ ~"), fence]
        text = escape(block.text)
        if block.kind == "missing":
            return [f"_{text}_"]
        return [f"**Error:** {text}" if block.kind == "error" else text]
    if isinstance(block, Table):
        out = [f"**{escape(block.caption)}**", ""] if block.caption else []
        align = ["---:" if i in block.numeric else "---" for i in range(len(block.headers))]
        out += ["| " + " | ".join(escape(h) for h in block.headers) + " |", "|" + "|".join(align) + "|"]
        out += ["| " + " | ".join(escape(c) for c in row) + " |" for row in block.rows]
        return out
    if isinstance(block, Figure):
        out = [f"![{escape(block.alt)}]({FIGURES_DIR}/{block.name})"]
        return out + ([f"_{escape(block.caption)}_"] if block.caption else [])
    raise TypeError(f"unknown report block {type(block).__name__}")
