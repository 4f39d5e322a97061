"""report.html: one self-contained page. CSS inline, figures as base64 data URIs, nothing fetched.

Every string from the run is escaped here and only here; the Content-Security-Policy forbids scripts and
any load that is not an inline image, so even a missed escape could not run or fetch anything.
"""

from __future__ import annotations

import base64
from html import escape

from agent.report.document import Figure, Report, Table, Text

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232a;margin:0;background:#f5f6f8}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px;background:#fff}
h1{font-size:1.6em;margin:.2em 0 .6em}h2{font-size:1.25em;margin:1.8em 0 .5em;border-bottom:2px solid #e3e6ea;
padding-bottom:.2em}
nav{margin:.5em 0 1.2em;font-size:.92em}nav a{margin-right:1em;color:#1f5fbf;text-decoration:none}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.88em;width:auto;max-width:100%}
caption{text-align:left;font-weight:600;padding:.3em 0;color:#38414a}
th,td{border:1px solid #dde1e6;padding:4px 8px;vertical-align:top;text-align:left;overflow-wrap:anywhere}
th{background:#f0f2f5}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.summary th{width:12em}
tr.error td{background:#fdecea}tr.warning td{background:#fff6e0}tr.info td{background:#f3f7fd}
tr.failed td{background:#fdecea}tr.chosen td{background:#eef8ec;font-weight:600}
p.missing{color:#6b7480;font-style:italic}p.note{color:#4d5661;font-size:.9em}
p.error{color:#9b1c1c;background:#fdecea;border-left:4px solid #c62828;padding:.4em .7em}
pre{background:#f6f8fa;border:1px solid #e1e4e8;padding:.6em;overflow:auto;font-size:.82em}
figure{margin:.8em 0 1.4em}figure img{max-width:100%;height:auto;border:1px solid #e3e6ea}
figcaption{font-size:.85em;color:#4d5661}
.status-succeeded{color:#1b7f3b;font-weight:600}.status-failed{color:#c62828;font-weight:600}
.status-running{color:#8a6d00;font-weight:600}
"""


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_html(report: Report) -> str:
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{escape(report.title)}</title><style>{CSS}</style></head>",
             f'<body><main data-status="{escape(report.status)}">', f"<h1>{escape(report.title)}</h1>"]
    rows = []
    for key, value in report.summary:
        cls = f' class="status-{escape(value.split()[0])}"' if key == "status" and value else ""
        rows.append(f"<tr><th>{escape(key)}</th><td{cls}>{escape(value)}</td></tr>")
    parts.append(f'<table class="summary">{"".join(rows)}</table>')
    links = "".join(f'<a href="#{escape(s.anchor)}">{escape(s.title)}</a>' for s in report.sections)
    parts.append(f"<nav>{links}</nav>")
    for section in report.sections:
        parts.append(f'<section id="{escape(section.anchor)}"><h2>{escape(section.title)}</h2>')
        parts += [_block(block) for block in section.blocks]
        parts.append("</section>")
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def _block(block) -> str:
    if isinstance(block, Text):
        if block.kind == "pre":
            return f"<pre>{escape(block.text)}</pre>"
        return f'<p class="{block.kind}">{escape(block.text)}</p>'
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Figure):
        caption = f"<figcaption>{escape(block.caption)}</figcaption>" if block.caption else ""
        return (f'<figure><img src="{data_uri(block.png)}" alt="{escape(block.alt)}" '
                f'data-name="{escape(block.name)}">{caption}</figure>')
    raise TypeError(f"unknown report block {type(block).__name__}")


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.headers)
    body = []
    for i, row in enumerate(table.rows):
        cls = table.row_classes[i] if i < len(table.row_classes) and table.row_classes[i] else ""
        cells = "".join(f'<td class="num">{escape(c)}</td>' if j in table.numeric else f"<td>{escape(c)}</td>"
                        for j, c in enumerate(row))
        body.append(f'<tr class="{escape(cls)}">{cells}</tr>' if cls else f"<tr>{cells}</tr>")
    caption = f"<caption>{escape(table.caption)}</caption>" if table.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
