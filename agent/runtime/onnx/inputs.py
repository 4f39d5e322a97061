"""Raw columns in, the encoder's float matrix out: podium's Encoder (agent/runtime/encoder.py) as ONNX ops.

Numeric columns are double inputs passed through (NaN is missing). Categorical columns are string inputs looked
up, all at once as one (N, C) string matrix (each value prefixed with its column's number, so one ai.onnx.ml
LabelEncoder holds every column's table and a wide table costs no more operators than a narrow one):
1. the value as sent: each frequent category to its code, every other listed one to the "other" code, '' to NaN,
   plus the variants callers of other languages write (1 as '1.0', true as 'True' or 'TRUE');
2. a value not found as sent is trimmed of spaces, as podium's category_key trims it ('WD ' is 'WD'): split on
   spaces (StringSplit, which splits on spaces only) and joined with single spaces, which equals the trimmed text
   whenever its words were single-spaced (a regular expression checks); found -> its code, else "other".
   Tabs or newlines around a category are not trimmed (ONNX has no operator that would): such a value counts as
   unseen where podium's loader would find the category (docs/production.md#onnx-export);
3. a whitespace-only value is missing (NaN), as in podium.
"""

from __future__ import annotations

import re

import numpy as np

from agent.runtime.encoder import Encoder
from agent.runtime.onnx.graph import ML, Graph
from agent.runtime.schema import CATEGORICAL

SEPARATOR = "\x1f"  # between a column's number and its value in the shared table
FILLER = "\x01"     # a word appended K times so every value splits into at least K words
MISS = -1.0          # the LabelEncoders' default: not in this table


def input_types(encoder: Encoder) -> list[dict[str, str]]:
    """What each graph input is: the schema's column name, its ONNX element type and podium's kind."""
    return [{"name": c.name, "type": "string" if c.kind == CATEGORICAL else "double", "kind": c.kind}
            for c in encoder.schema.columns]


def encoded_matrix(graph: Graph, encoder: Encoder) -> str:
    """Add one graph input per schema column, (N, 1) each, and return the (N, F) double matrix runtimes read."""
    from onnx import TensorProto

    numeric, categorical, order = [], [], []
    for column in encoder.schema.columns:
        if column.kind == CATEGORICAL:
            categorical.append(graph.input(column.name, TensorProto.STRING,
                                           "categorical: the category as schema.json lists it, '' for missing"))
        else:
            numeric.append(graph.input(column.name, TensorProto.DOUBLE, "numeric: a double, NaN for missing"))
        order.append(("n", len(numeric) - 1) if column.kind != CATEGORICAL else ("c", len(categorical) - 1))
    parts = []
    if numeric:
        parts.append(_concat(graph, numeric, "numbers"))
    if categorical:
        parts.append(category_codes(graph, _concat(graph, categorical, "categories"), encoder))
    matrix = _concat(graph, parts, "unordered")
    positions = [i if kind == "n" else len(numeric) + i for kind, i in order]
    if positions == list(range(len(positions))):
        return matrix
    return graph.op("Gather", [matrix, graph.const(positions, "order", np.int64)], "matrix", axis=1)


def _concat(graph: Graph, names: list[str], hint: str) -> str:
    return names[0] if len(names) == 1 else graph.op("Concat", names, hint, axis=1)


def category_tables(encoder: Encoder) -> tuple[dict[str, float], dict[str, float], list[float], int]:
    """The two shared lookup tables (as sent; trimmed and padded to `words` words), each column's "other" code,
    and `words`, the most words of any category."""
    exact, trimmed, others = {}, {}, []
    columns = [c for c in encoder.schema.columns if c.kind == CATEGORICAL]
    tables = [column_table(encoder, c.name) for c in columns]
    words = max([1] + [len(key.split(" ")) for table, _ in tables for key in table if _spaced(key)])
    for j, (table, other) in enumerate(tables):
        prefix = f"{j}{SEPARATOR}"
        others.append(other)
        for key, code in table.items():
            exact[prefix + key] = code
            if _spaced(key):
                trimmed[prefix + key + f" {FILLER}" * (words - len(key.split(" ")))] = code
    return exact, trimmed, others, words


def column_table(encoder: Encoder, column: str) -> tuple[dict[str, float], float]:
    """What Encoder's lookup holds for one column (plus '' -> NaN and the cheap variants), and its "other" code."""
    frequent = encoder.codes.get(column, [])
    other = float(encoder.other_code.get(column, len(frequent)))
    listed = next(c for c in encoder.schema.columns if c.name == column).categories
    table: dict[str, float] = {key: other for key in listed}
    table.update({key: float(code) for code, key in enumerate(frequent)})
    for key, code in list(table.items()):
        for variant in _variants(key):
            table.setdefault(variant, code)
    if column in encoder.missing_code:  # missing, blank included, has a code of its own
        table[""] = float(encoder.missing_code[column])
    table.setdefault("", float("nan"))  # a blank category of training (whitespace read as '') keeps its code
    return table, other


def _spaced(key: str) -> bool:
    """Whether splitting on spaces and joining with one gives `key` back (what the trimmed lookup can find)."""
    return bool(key) and " ".join(word for word in key.split(" ") if word) == key


def _variants(key: str) -> list[str]:
    if re.fullmatch(r"-?\d+", key):
        return [f"{key}.0"]
    if key in ("true", "false"):
        return [key.capitalize(), key.upper()]
    return []


def category_codes(graph: Graph, values: str, encoder: Encoder) -> str:
    """(N, C) strings to (N, C) codes, as Encoder.encode maps them."""
    exact, trimmed, others, words = category_tables(encoder)
    prefixes = graph.const(np.asarray([f"{j}{SEPARATOR}" for j in range(len(others))], dtype=object), "prefix")
    miss = graph.const(MISS, "miss")
    as_sent = _lookup(graph, graph.op("StringConcat", [prefixes, values], "keyed"), exact, "as_sent")
    padded = graph.op("StringConcat", [values, graph.const(np.asarray([f" {FILLER}" * words], dtype=object))])
    tokens = graph.ops("StringSplit", [padded], 2, "words")[0]
    joined = graph.op("Gather", [tokens, graph.const(0, "first", np.int64)], "word", axis=2)
    space = graph.const(np.asarray([" "], dtype=object), "space") if words > 1 else ""
    for t in range(1, words):
        word = graph.op("Gather", [tokens, graph.const(t, "index", np.int64)], "word", axis=2)
        joined = graph.op("StringConcat", [graph.op("StringConcat", [joined, space]), word], "joined")
    found = _lookup(graph, graph.op("StringConcat", [prefixes, joined], "keyed"), trimmed, "trimmed")
    word = f"[^ {FILLER}]+"
    single_spaced = graph.op("RegexFullMatch", [values], "single_spaced",
                             pattern=f" *{word}( {word}){{0,{words - 1}}} *")
    code = graph.op("Where", [graph.op("Equal", [as_sent, miss]),
                              graph.op("Where", [single_spaced, found, miss]), as_sent], "code")
    code = graph.op("Where", [graph.op("Equal", [code, miss]), graph.const(others, "other"), code], "code")
    blank = graph.op("RegexFullMatch", [values], "blank", pattern=r"\s+")
    columns = [c.name for c in encoder.schema.columns if c.kind == CATEGORICAL]
    missing = np.asarray([encoder.missing_code.get(name, np.nan) for name in columns], dtype=np.float64)
    return graph.op("Where", [blank, graph.const(missing, "missing"), code], "codes")


def _lookup(graph: Graph, keys: str, table: dict[str, float], hint: str) -> str:
    from onnx import numpy_helper

    if not table:  # LabelEncoder wants at least one key
        table = {SEPARATOR: MISS}
    return graph.op("LabelEncoder", [keys], hint, domain=ML,
                    keys_tensor=numpy_helper.from_array(np.asarray(list(table), dtype=object)),
                    values_tensor=numpy_helper.from_array(np.asarray(list(table.values()), dtype=np.float64)),
                    default_tensor=numpy_helper.from_array(np.asarray([MISS], dtype=np.float64)))
