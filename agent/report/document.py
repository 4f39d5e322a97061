"""The report as plain data: sections of text, tables and figures, rendered to Markdown and to HTML.

Builders say what to show; the renderers alone decide how, and escape every string that came from the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

TextKind = Literal["p", "note", "missing", "error", "pre"]


@dataclass(frozen=True)
class Text:
    """A paragraph. `missing` says what was not produced; `error` carries a failure; `pre` keeps line breaks."""

    text: str
    kind: TextKind = "p"


@dataclass(frozen=True)
class Table:
    """Rows of plain strings; `row_classes` tags rows (e.g. a severity) for the HTML's colours."""

    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]
    caption: str = ""
    row_classes: tuple[str, ...] = ()
    numeric: tuple[int, ...] = ()  # column indices aligned right


@dataclass(frozen=True)
class Figure:
    """A PNG made for (or copied into) the report; `name` is its file name beside report.md."""

    name: str
    png: bytes = field(repr=False)
    alt: str
    caption: str = ""


Block = Text | Table | Figure


@dataclass
class Section:
    title: str
    anchor: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> Section:
        self.blocks.extend(blocks)
        return self


@dataclass
class Report:
    title: str
    summary: list[tuple[str, str]]  # the few facts shown first: status, score, ...
    sections: list[Section]
    status: str = ""

    @property
    def figures(self) -> list[Figure]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Figure)]
