"""A CatBoost model's formula evaluated without CatBoost, read from CatBoost's own JSON export.

CatBoost's Python `predict` spends 0.1-0.2 ms setting up each call, whatever the model
(benchmarks/catboost_row.py): most of a 1 ms budget before a tree is read. The formula itself is small: every
split of its oblivious trees is one bit (a float feature above a border, a category equal to a value, or a
target statistic (CTR) above a border), and a CTR is a table lookup by a hash chained from the row's category
hashes and such bits (CatBoost's CalcHash). Its JSON export (`save_model(format="json", pool=...)`) holds all
of it: borders, category hashes, CTR tables, leaf values. The arrays read from it are evaluated by a small C
kernel (agent/runtime/catboost_kernel.c, compiled once per machine: agent/runtime/compiled.py) or, where this
machine cannot compile it, by numpy (`evaluate`), in a fixed number of operations whatever the number of trees.

Categories arrive as the integer codes CatBoost was trained on; their hashes are CatBoost's, from the export of
a pool holding every code. Comparisons are in float32 as CatBoost's are. Whoever builds one checks it against
CatBoost's own predictions (`disagreement`): that check makes it CatBoost's formula, not an approximation of it.
"""

from __future__ import annotations

import ctypes
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = 0x4906BA494954CB65  # CatBoost's CalcHash multiplier: h' = M (h + M e) mod 2^64
UNKNOWN_HASH = 0x7FFFFFFF  # a category the export was not shown: in no table, equal to no one-hot value
EMPTY_KEY = 2**64 - 1  # a CTR table's empty slot
CAT, FLOAT, EXACT = "cat_feature_value", "float_feature", "cat_feature_exact_value"
MEAN_TYPES = {"BinarizedTargetMeanValue", "FloatTargetMeanValue"}
COUNTER_TYPES = {"Counter", "FeatureFreq"}
SPLIT_KINDS = {"FloatFeature": 0, "OneHotFeature": 1, "OnlineCtr": 2}


class ObliviousTrees:
    """The arrays of one CatBoost model's formula (`formula_arrays` says what each holds), evaluated on the
    encoder's matrix: float columns as they are, categorical columns as category codes."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.arrays = {name: np.asarray(value) for name, value in arrays.items()}
        self._powers = (1 << np.arange(self.arrays["split_index"].shape[1])).astype(np.int64)
        self._formula: Formula | None | bool = False  # False: not looked for yet; None: no kernel here

    @classmethod
    def from_catboost(cls, model, categorical: list[int], codes: list[int]) -> ObliviousTrees:
        """`model`'s formula; `categorical` are its categorical columns' positions, `codes` how many codes each
        takes (0 to codes-1, as the encoder gives them)."""
        return cls(formula_arrays(_json_export(model, categorical, codes), categorical, codes))

    def raw(self, matrix: np.ndarray) -> np.ndarray:
        """CatBoost's RawFormulaVal: (rows, dimensions), by the compiled kernel where this machine has one."""
        return self._formula(matrix) if self.compiled else self.evaluate(matrix)

    @property
    def compiled(self) -> bool:
        """Whether the kernel serves (looked for at the first call: building it takes 0.5 s once a machine)."""
        if self._formula is False:
            self._formula = Formula.of(self.arrays)
        return self._formula is not None

    def evaluate(self, matrix: np.ndarray) -> np.ndarray:
        """`raw` with numpy, every row at once (its memory grows with rows x splits)."""
        a = self.arrays
        matrix = np.asarray(matrix, dtype=np.float64)
        hashes = self._category_hashes(matrix)
        values = matrix[:, a["float_column"]].astype(np.float32)
        floats = np.where(np.isnan(values), a["float_nan"], values > a["float_border"])
        onehots = hashes[:, a["onehot_cat"]] == a["onehot_value"]
        ctrs = self._ctrs(hashes, matrix) if len(a["ctr_table"]) else np.zeros((len(matrix), 0), np.float32)
        bits = np.concatenate([floats, onehots, ctrs[:, a["ctr_split_ctr"]] > a["ctr_split_border"],
                               np.zeros((len(matrix), 1), dtype=bool)], axis=1)  # the last: padding, never set
        leaves = a["leaf_offsets"] + bits[:, a["split_index"]].astype(np.int64) @ self._powers
        return float(a["scale"]) * a["leaf_values"][leaves].sum(axis=1) + a["biases"]

    def _category_hashes(self, matrix: np.ndarray) -> np.ndarray:
        a = self.arrays
        codes = matrix[:, a["cat_columns"]]
        codes = np.where(codes == codes, codes, -1).astype(np.int64)  # NaN: unknown
        known = (codes >= 0) & (codes < a["cat_codes"])
        hashes = a["cat_hashes"][a["cat_offsets"] + np.where(known, codes, 0)]
        return np.where(known, hashes, np.uint64(UNKNOWN_HASH))

    def _ctrs(self, hashes: np.ndarray, matrix: np.ndarray) -> np.ndarray:
        """Each CTR's value: its projection's hash (h = sum of e_l M^(L+1-l) mod 2^64 over its elements: category
        hashes, float bits, category-equals bits), looked up in its table (one sorted search over all tables,
        their keys salted by table), read as its type reads counts."""
        a = self.arrays
        values = matrix[:, a["element_float_column"]].astype(np.float32)
        float_bits = np.where(np.isnan(values), a["element_float_nan"], values > a["element_float_border"])
        exact_bits = hashes[:, a["element_exact_cat"]] == a["element_exact_value"]
        elements = np.concatenate([hashes, float_bits.astype(np.uint64), exact_bits.astype(np.uint64)], axis=1)
        chained = (elements[:, a["element_index"]] * a["element_coef"]).sum(axis=2, dtype=np.uint64)
        wanted = chained[:, a["table_projection"]] ^ a["table_salt"]
        at = np.minimum(np.searchsorted(a["lookup_keys"], wanted), len(a["lookup_keys"]) - 1)
        found = np.where(a["lookup_keys"][at] == wanted, a["lookup_rows"][at], -1)
        slot = a["ctr_offsets"] + found[:, a["ctr_table"]] + 1  # slot 0 of each CTR: not found
        good, total = a["ctr_good"][slot], a["ctr_total"][slot]
        return ((good + a["ctr_prior_num"]) / (total + a["ctr_prior_denom"]) + a["ctr_shift"]) * a["ctr_scale"]

    def describe(self) -> dict[str, Any]:
        return {"trees": int(self.arrays["split_index"].shape[0]), "ctrs": int(len(self.arrays["ctr_table"]))}

    def save(self, path: Path) -> None:
        from agent.atomic import write_bytes

        buffer = io.BytesIO()
        np.savez_compressed(buffer, **self.arrays)
        write_bytes(Path(path), buffer.getvalue())

    @classmethod
    def load(cls, path: Path) -> ObliviousTrees:
        with np.load(Path(path)) as stored:
            return cls({name: stored[name] for name in stored.files})


def disagreement(trees: ObliviousTrees, model, matrix: np.ndarray, categorical: list[int]) -> float:
    """The largest difference between `trees` (compiled and numpy both) and CatBoost's own RawFormulaVal on
    `matrix`'s rows, relative to the formula's typical size."""
    import pandas as pd

    frame = pd.DataFrame(matrix, columns=model.feature_names_)
    for index in categorical:
        frame[frame.columns[index]] = frame[frame.columns[index]].astype(np.int64)
    theirs = np.asarray(model.predict(frame, prediction_type="RawFormulaVal", thread_count=1), dtype=float)
    if not len(theirs):
        return 0.0
    scale = max(float(np.mean(np.abs(theirs))), 1.0)
    ours = [trees.evaluate(matrix), *([trees.raw(matrix)] if trees.compiled else [])]
    return max(float(np.max(np.abs(o.reshape(theirs.shape) - theirs))) / scale for o in ours)


def _json_export(model, categorical: list[int], codes: list[int]) -> dict[str, Any]:
    """CatBoost's JSON export of `model`, made with a pool that holds every category code (so that the export
    lists their hashes)."""
    from catboost import Pool

    width, rows = len(model.feature_names_), max([1, *codes])
    data: list[list[Any]] = [[0.0] * width for _ in range(rows)]
    for column, count in zip(categorical, codes, strict=True):
        for row in range(rows):
            data[row][column] = row % max(count, 1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.json"
        model.save_model(str(path), format="json", pool=Pool(data, cat_features=categorical or None))
        return json.loads(path.read_text())


def formula_arrays(export: dict[str, Any], categorical: list[int], codes: list[int]) -> dict[str, np.ndarray]:
    """The export as flat arrays. Every split of the model is one bit, in CatBoost's order of `split_index`:
    float borders (`float_*`), one-hot values (`onehot_*`), CTR borders (`ctr_split_*`); `split_index` is
    (trees, max depth), padded with an always-0 bit. Category hashes are sign-extended to 64 bits, as CatBoost
    chains them. Raises ValueError for anything it does not read as CatBoost does."""
    if "oblivious_trees" not in export:
        raise ValueError("only oblivious (symmetric) trees are read: this model grew others")
    info = export["features_info"]
    floats = {f["feature_index"]: f for f in (info.get("float_features") or [])}
    cats = (info.get("categorical_features") or [])
    position = {column: i for i, column in enumerate(categorical)}
    if any(c["flat_feature_index"] not in position for c in cats):
        raise ValueError("the model reads a categorical column that is not given as one")
    cat_of = {c["feature_index"]: position[c["flat_feature_index"]] for c in cats}
    hashes = {h["value"]: _signed(h["hash"]) for h in (info.get("cat_features_hash") or [])}
    out: dict[str, Any] = {
        "cat_columns": np.asarray(categorical, dtype=np.int64), "cat_codes": np.asarray(codes, dtype=np.int64),
        "cat_offsets": np.cumsum([0, *codes])[:-1].astype(np.int64),
        "cat_hashes": np.asarray([_unsigned(hashes.get(str(code), UNKNOWN_HASH)) for count in codes
                                  for code in range(count)], dtype=np.uint64)}

    float_splits = [(f["flat_feature_index"], b, _nan_bit(f)) for f in floats.values() for b in f.get("borders") or []]
    out["float_column"] = np.asarray([c for c, _, _ in float_splits], dtype=np.int64)
    out["float_border"] = np.asarray([b for _, b, _ in float_splits], dtype=np.float32)
    out["float_nan"] = np.asarray([n for _, _, n in float_splits], dtype=bool)
    onehot = [(cat_of[c["feature_index"]], v) for c in cats for v in (c.get("values") or [])]
    out["onehot_cat"] = np.asarray([c for c, _ in onehot], dtype=np.int64)
    out["onehot_value"] = np.asarray([_unsigned(v) for _, v in onehot], dtype=np.uint64)
    ctrs = (info.get("ctrs") or [])
    ctr_splits = [(k, b) for k, ctr in enumerate(ctrs) for b in ctr["borders"]]
    out["ctr_split_ctr"] = np.asarray([k for k, _ in ctr_splits], dtype=np.int64)
    out["ctr_split_border"] = np.asarray([b for _, b in ctr_splits], dtype=np.float32)
    out |= _ctr_arrays(ctrs, export.get("ctr_data") or {}, floats, cat_of)
    out |= _tree_arrays(export, float_splits, onehot, ctr_splits)
    return out


def _nan_bit(feature: dict[str, Any]) -> bool:
    """A missing value's bit at every border: CatBoost's Min (the default) sends it below them all."""
    treatment = feature.get("nan_value_treatment", "AsIs")
    if treatment not in ("AsIs", "AsFalse", "AsTrue"):
        raise ValueError(f"unknown missing-value treatment {treatment!r}")
    return treatment == "AsTrue"


def _signed(value: int) -> int:
    """A 32-bit category hash as CatBoost chains it: as a signed int, sign-extended."""
    value = int(value) & 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _unsigned(value: int) -> int:
    return int(value) & 0xFFFFFFFFFFFFFFFF


def _ctr_arrays(ctrs: list[dict], data: dict[str, Any], floats: dict[int, dict], cat_of: dict[int, int]):
    """Projections' elements, tables and each CTR's counts by table row (slot 0: not found)."""
    float_elements: dict[tuple[int, float, bool], int] = {}
    exact_elements: dict[tuple[int, int], int] = {}
    projections: dict[str, int] = {}
    chains: list[list[tuple[str, int]]] = []
    tables: list[tuple[int, str]] = []
    table_of: dict[str, int] = {}
    ctr_table, offsets, goods, totals, priors = [], [], [], [], []
    rows_of = {identifier: _table_rows(table) for identifier, table in data.items()}  # parsed once a table
    used = 0
    for ctr in ctrs:
        chain = _chain(ctr["elements"], floats, cat_of, float_elements, exact_elements)
        key = json.dumps(chain)
        if key not in projections:
            projections[key] = len(chains)
            chains.append(chain)
        identifier = ctr["identifier"]
        if identifier not in table_of:
            table_of[identifier] = len(tables)
            tables.append((projections[key], identifier))
        good, total = _ctr_counts(ctr, data[identifier], rows_of[identifier])
        ctr_table.append(table_of[identifier])
        offsets.append(used)
        used += len(good)
        goods.append(good)
        totals.append(total)
        priors.append((ctr["prior_numerator"], ctr["prior_denomerator"], ctr["shift"], ctr["scale"]))
    n_cat, n_float = len(cat_of), len(float_elements)
    width = max([1, *(len(c) for c in chains)])
    index = np.zeros((len(chains), width), dtype=np.int64)
    coef = np.zeros((len(chains), width), dtype=np.uint64)
    for p, chain in enumerate(chains):
        index[p, :len(chain)] = [i if kind == "cat" else n_cat + i if kind == "float" else n_cat + n_float + i
                                 for kind, i in chain]
        coef[p, :len(chain)] = [pow(MAGIC, len(chain) + 1 - i, 1 << 64) for i in range(len(chain))]
    salts = [(t + 1) * 0x9E3779B97F4A7C15 % (1 << 64) for t in range(len(tables))]
    keys, found = [], []
    for (_, identifier), salt in zip(tables, salts, strict=True):
        rows = rows_of[identifier]
        keys += [k ^ salt for k in rows]
        found += list(range(len(rows)))
    keys_array = np.asarray(keys, dtype=np.uint64)
    order = np.argsort(keys_array, kind="stable")
    if len(np.unique(keys_array)) != len(keys_array):
        raise ValueError("two CTR tables' salted keys collide")
    float_list = sorted(float_elements, key=float_elements.get)
    exact_list = sorted(exact_elements, key=exact_elements.get)
    prior = np.asarray(priors, dtype=np.float32).reshape(len(priors), 4)
    return {
        "element_float_column": np.asarray([c for c, _, _ in float_list], dtype=np.int64),
        "element_float_border": np.asarray([b for _, b, _ in float_list], dtype=np.float32),
        "element_float_nan": np.asarray([n for _, _, n in float_list], dtype=bool),
        "element_exact_cat": np.asarray([c for c, _ in exact_list], dtype=np.int64),
        "element_exact_value": np.asarray([_unsigned(v) for _, v in exact_list], dtype=np.uint64),
        "element_index": index, "element_coef": coef,
        "table_projection": np.asarray([p for p, _ in tables], dtype=np.int64),
        "table_salt": np.asarray(salts, dtype=np.uint64),
        "lookup_keys": keys_array[order], "lookup_rows": np.asarray(found, dtype=np.int64)[order],
        "ctr_table": np.asarray(ctr_table, dtype=np.int64), "ctr_offsets": np.asarray(offsets, dtype=np.int64),
        "ctr_good": np.concatenate(goods).astype(np.float32) if goods else np.zeros(0, np.float32),
        "ctr_total": np.concatenate(totals).astype(np.float32) if totals else np.zeros(0, np.float32),
        "ctr_prior_num": prior[:, 0], "ctr_prior_denom": prior[:, 1], "ctr_shift": prior[:, 2],
        "ctr_scale": prior[:, 3],
    }


def _chain(elements: list[dict], floats: dict[int, dict], cat_of: dict[int, int],
           float_elements: dict, exact_elements: dict) -> list[tuple[str, int]]:
    """A projection's elements in CatBoost's hashing order (categories, then float bits, then category-equals
    bits), each as (kind, index into its kind's list)."""
    chain: list[tuple[str, int]] = []
    for wanted in (CAT, FLOAT, EXACT):
        for element in elements:
            kind = element["combination_element"]
            if kind not in (CAT, FLOAT, EXACT):
                raise ValueError(f"unknown CTR element {kind!r}")
            if kind != wanted:
                continue
            if kind == CAT:
                chain.append(("cat", cat_of[element["cat_feature_index"]]))
            elif kind == FLOAT:
                feature = floats[element["float_feature_index"]]
                key = (feature["flat_feature_index"], float(np.float32(element["border"])), _nan_bit(feature))
                chain.append(("float", float_elements.setdefault(key, len(float_elements))))
            else:
                key = (cat_of[element["cat_feature_index"]], int(element["value"]))
                chain.append(("exact", exact_elements.setdefault(key, len(exact_elements))))
    return chain


def _table_rows(table: dict[str, Any]) -> dict[int, list[float]]:
    """A CTR table's rows by key (empty slots left out)."""
    stride, flat = int(table["hash_stride"]), table["hash_map"]
    rows = {}
    for start in range(0, len(flat), stride):
        key = int(flat[start])
        if key != EMPTY_KEY:
            rows[key] = [float(v) for v in flat[start + 1:start + stride]]
    return rows


def _ctr_counts(ctr: dict[str, Any], table: dict[str, Any], rows: dict[int, list[float]]):
    """Per table row (slot 0: not found) the two counts the CTR's type divides."""
    kind, border = ctr["ctr_type"], int(ctr.get("target_border_idx", 0))
    good, total = [0.0], [0.0]
    for counts in rows.values():
        if kind in MEAN_TYPES:
            good.append(counts[0]), total.append(counts[1])
        elif kind in COUNTER_TYPES:
            good.append(counts[0]), total.append(float(table["counter_denominator"]))
        elif kind == "Buckets":
            good.append(counts[border]), total.append(sum(counts))
        elif len(counts) > 2:  # Borders of a multiclass target
            above = sum(counts[border + 1:])
            good.append(above), total.append(sum(counts[:border + 1]) + above)
        else:
            good.append(counts[1]), total.append(counts[0] + counts[1])
    return np.asarray(good), np.asarray(total)


def _tree_arrays(export: dict[str, Any], float_splits: list, onehot: list, ctr_splits: list):
    """Each tree's splits as bit positions (checked against the split's own description) and its leaves."""
    first_onehot, first_ctr = len(float_splits), len(float_splits) + len(onehot)
    padding = first_ctr + len(ctr_splits)
    trees = export["oblivious_trees"]
    depth = max([1, *(len(t["splits"] or []) for t in trees)])
    index = np.full((len(trees), depth), padding, dtype=np.int64)
    for t, tree in enumerate(trees):
        for d, split in enumerate(tree["splits"] or []):
            at, kind = int(split["split_index"]), SPLIT_KINDS.get(split["split_type"])
            expected = 0 if at < first_onehot else 1 if at < first_ctr else 2
            if kind != expected or at >= padding or (kind != 1 and not np.float32(split["border"]) == (
                    float_splits[at][1] if kind == 0 else ctr_splits[at - first_ctr][1])):
                raise ValueError(f"split {at} ({split['split_type']}) is not where CatBoost's order puts it")
            index[t, d] = at
    dimension = len(export["scale_and_bias"][1]) or 1
    leaves = [np.asarray(t["leaf_values"], dtype=np.float64).reshape(-1, dimension) for t in trees]
    scale, biases = export["scale_and_bias"]
    return {"split_index": index,
            "leaf_offsets": np.cumsum([0, *(len(v) for v in leaves)])[:-1].astype(np.int64),
            "leaf_values": np.concatenate(leaves) if leaves else np.zeros((0, dimension)),
            "scale": np.asarray(float(scale)), "biases": np.asarray(biases or [0.0], dtype=np.float64)}


class Formula(ctypes.Structure):
    """The kernel's view of the arrays (agent/runtime/catboost_kernel.c: the same fields in the same order); it
    keeps the arrays it points into."""

    _fields_ = [(name, ctypes.c_double if name == "scale" else ctypes.c_int64 if name.startswith("n_") or name in (
        "elements_width", "depth", "dimension") else ctypes.c_void_p) for name in (
        "n_cat", "cat_columns", "cat_codes", "cat_offsets", "cat_hashes",
        "n_float", "float_column", "float_border", "float_nan",
        "n_onehot", "onehot_cat", "onehot_value",
        "n_ctr_splits", "ctr_split_ctr", "ctr_split_border",
        "n_float_elements", "element_float_column", "element_float_border", "element_float_nan",
        "n_exact_elements", "element_exact_cat", "element_exact_value",
        "n_projections", "elements_width", "element_index", "element_count",
        "n_tables", "table_projection", "table_salt", "n_keys", "lookup_keys", "lookup_rows",
        "n_ctrs", "ctr_table", "ctr_offsets", "ctr_good", "ctr_total", "ctr_prior_num", "ctr_prior_denom",
        "ctr_shift", "ctr_scale",
        "n_trees", "depth", "split_index", "leaf_offsets", "leaf_values", "dimension", "scale", "biases")]

    @classmethod
    def of(cls, a: dict[str, np.ndarray]) -> Formula | None:
        """The kernel's formula for these arrays, or None where the kernel cannot be built here."""
        from agent.runtime.compiled import kernel

        library = kernel("catboost_kernel")
        if library is None:
            return None
        pointed = {name for name, kind in cls._fields_ if kind is ctypes.c_void_p}
        kept = {name: np.ascontiguousarray(a[name] if name != "element_count" else
                                           (a["element_coef"] != 0).sum(axis=1)) for name in pointed}
        kept = {name: value.astype(np.uint8) if value.dtype == bool else
                value if value.dtype in (np.float32, np.float64, np.uint64) else value.astype(np.int64)
                for name, value in kept.items()}
        formula = cls(
            n_cat=len(kept["cat_columns"]), n_float=len(kept["float_column"]), n_onehot=len(kept["onehot_cat"]),
            n_ctr_splits=len(kept["ctr_split_ctr"]), n_float_elements=len(kept["element_float_column"]),
            n_exact_elements=len(kept["element_exact_cat"]), n_projections=kept["element_index"].shape[0],
            elements_width=kept["element_index"].shape[1], n_tables=len(kept["table_projection"]),
            n_keys=len(kept["lookup_keys"]), n_ctrs=len(kept["ctr_table"]),
            n_trees=kept["split_index"].shape[0], depth=kept["split_index"].shape[1],
            dimension=kept["leaf_values"].shape[1], scale=float(a["scale"]),
            **{name: value.ctypes.data for name, value in kept.items()})
        formula._kept, formula._call = kept, library.podium_catboost
        formula._call.restype = ctypes.c_int
        return formula

    def __call__(self, matrix: np.ndarray) -> np.ndarray:
        matrix = np.ascontiguousarray(matrix, dtype=np.float64)
        out = np.empty((len(matrix), self.dimension))
        if self._call(ctypes.byref(self), ctypes.c_void_p(matrix.ctypes.data), ctypes.c_int64(len(matrix)),
                      ctypes.c_int64(matrix.shape[1]), ctypes.c_void_p(out.ctypes.data)):
            raise MemoryError("the CatBoost kernel could not allocate its scratch space")
        return out
