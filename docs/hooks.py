"""mkdocs hook: the settings tables of docs/configuration.md, generated at build time.

Why: a hand-written copy of the settings drifts from the code. Keys and types come from the pydantic models in
agent/config.py (what podium actually accepts); each key's default and explanation come from configs/default.yaml
(the file a person edits, and the one place defaults are written). The marker line `<!-- settings -->` in
configuration.md is replaced by one table per section of `Settings`.
"""

from __future__ import annotations

import json
import re
import sys
import types
import typing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout, whether podium is installed or not

from agent.config import DEFAULT_CONFIG, Settings  # noqa: E402

MARKER = "<!-- settings -->"
_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_]\w*):(?P<value>[^#]*)(?:#\s?(?P<comment>.*))?$")
_COMMENT = re.compile(r"^(?P<indent> *)#\s?(?P<comment>.*)$")
_BOUNDS = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤"}


def yaml_comments(path: Path = DEFAULT_CONFIG) -> dict[str, dict[str, str]]:
    """{section: {key: comment}} from `key: value  # comment` lines; the section's own comment is under "".

    A comment-only line indented deeper than the key before it continues that key's comment; one at a key's
    own indentation introduces the key that follows it.
    """
    comments: dict[str, dict[str, str]] = {}
    section, last, pending = None, None, []
    for line in path.read_text().splitlines():
        key, comment = _KEY.match(line), _COMMENT.match(line)
        if comment and section is not None:
            depth = len(comment["indent"])
            if last is not None and depth > last[1]:
                comments[section][last[0]] += " " + comment["comment"].strip()
            elif depth > 0:
                pending.append(comment["comment"].strip())
        elif key:
            depth = len(key["indent"])
            if depth == 0:
                section = key["key"]
                name = "" if key["value"].strip() == "" else section  # `competition: {}` is a key of its own
                comments[section] = {"": "" if name else (key["comment"] or "").strip()}
            else:
                name = key["key"]
            text = " ".join([*pending, (key["comment"] or "").strip()]).strip()
            if name:
                comments[section][name] = text
            last, pending = ((name, depth) if name else None), []
    return comments


def type_name(annotation: typing.Any) -> str:
    """`float`, `int or null`, `"auto" or float`, `list[str]`: a pydantic annotation as a reader would say it."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin is typing.Literal:
        return " or ".join(json.dumps(arg) for arg in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(arg) for arg in args)
    if annotation is type(None):
        return "null"
    if origin is not None:
        return f"{origin.__name__}[{', '.join(type_name(arg) for arg in args)}]"
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):  # a nested settings model
        return "{" + ", ".join(f"{key}: {type_name(f.annotation)}" for key, f in annotation.model_fields.items()) + "}"
    return getattr(annotation, "__name__", str(annotation))


def bounds(field) -> str:
    """The field's numeric limits, e.g. `> 0, ≤ 1`, from its annotated_types metadata."""
    found = []
    for item in field.metadata:
        for name, symbol in _BOUNDS.items():
            if getattr(item, name, None) is not None:
                found.append(f"{symbol} {getattr(item, name)}")
    return ", ".join(found)


def default_text(value: typing.Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell; `docs/<page>.md` in a comment becomes a link to that page."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    return re.sub(r"\bdocs/([\w-]+\.md)", r"[docs/\1](\1)", text)


def settings_tables() -> str:
    comments, out = yaml_comments(), []
    shipped = Settings().dump()  # every default comes from configs/default.yaml
    for section, field in Settings.model_fields.items():
        notes = comments.get(section, {})
        out += [f"### `{section}`", ""]
        if notes.get(""):
            out += [cell(notes[""]), ""]
        model = Settings.sections().get(section)
        if model is not None:
            rows, prefix, values = list(model.model_fields.items()), f"{section}.", shipped[section]
        else:  # a plain mapping (competition: overrides of inferred fields)
            rows, prefix, values = [(section, field)], "", shipped
        out += ["| key | type | default | what it does |", "|---|---|---|---|"]
        for key, sub in rows:
            kind = type_name(sub.annotation) + (f" ({bounds(sub)})" if bounds(sub) else "")
            out.append(f"| `{prefix}{key}` | {cell(kind)} | `{cell(default_text(values[key]))}` "
                       f"| {cell(notes.get(key, ''))} |")
        out.append("")
    return "\n".join(out)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri == "configuration.md" and MARKER in markdown:
        return markdown.replace(MARKER, settings_tables())
    return markdown
