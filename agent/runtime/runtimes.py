"""The predicting part of a production model, one small class per model family, each saved under `model/`.

A runtime turns an encoded float matrix (or, for AutoGluon, a typed table) into a raw prediction in podium's
convention. LightGBM boosters predict with `num_threads=1`: OpenMP's thread start-up costs far more than a
single-row prediction on a busy machine (docs/benchmarks.md), and serving scales by processes anyway. One row
goes through LightGBM's single-row C API (`FastRow`), set up once: `Booster.predict` parses its parameters and
builds a predictor on every call, which measured 2-6x the whole prediction on a few hundred trees
(docs/benchmarks.md, "Inference paths"); the answers are the same to the bit.
"""

from __future__ import annotations

import ctypes
import gzip
import json
import threading
import weakref
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from agent.atomic import write_bytes, write_json

SIGMOID, SOFTMAX, IDENTITY = "sigmoid", "softmax", "identity"


class Runtime(Protocol):
    """What serving needs of one model family: its raw predictions (podium's convention before the output
    spec turns them into a submission's), a description for the card, and a folder of its own to live in.
    Each family is one class here (or beside, for AutoGluon), named in RUNTIMES."""

    kind: ClassVar[str]
    input: ClassVar[str]  # what `raw` takes: "matrix", the encoder's numbers; "frame", the typed rows; "rows", raw

    def raw(self, inputs) -> np.ndarray: ...

    def describe(self) -> dict[str, Any]: ...

    def save(self, folder: Path) -> dict[str, Any]: ...

    @classmethod
    def load(cls, root: Path, config: dict[str, Any]) -> Runtime: ...


def apply_link(raw: np.ndarray, link: str, log_target: bool = False) -> np.ndarray:
    """Raw scores to podium's convention: P(1) for binary, a row-stochastic matrix for multiclass, values."""
    if link == SIGMOID:
        return 1.0 / (1.0 + np.exp(-raw))
    if link == SOFTMAX:
        shifted = np.exp(raw - raw.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    return np.expm1(raw) if log_target else raw


class FastRow:
    """LightGBM's single-row predictor (LGBM_BoosterPredictForMatSingleRowFast): raw scores of one float64 row,
    one thread, configured once. The configuration is LightGBM's and not safe to share between threads, so calls
    take a lock; it is freed with this object."""

    def __init__(self, booster):
        from lightgbm.basic import _LIB, _c_str, _safe_call

        self._booster = booster  # the configuration points into it
        self._handle = ctypes.c_void_p()
        _safe_call(_LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
            booster._handle, ctypes.c_int(1), ctypes.c_int(0), ctypes.c_int(-1),  # raw score, every iteration
            ctypes.c_int(1), ctypes.c_int32(booster.num_feature()), _c_str("num_threads=1"),  # float64 rows
            ctypes.byref(self._handle)))
        self._outputs = booster.num_model_per_iteration()
        self._predict = _LIB.LGBM_BoosterPredictForMatSingleRowFast
        self._lock = threading.Lock()
        weakref.finalize(self, _LIB.LGBM_FastConfigFree, self._handle)

    def __call__(self, row: np.ndarray) -> np.ndarray:
        row = np.ascontiguousarray(row, dtype=np.float64)
        out, written = np.empty(self._outputs), ctypes.c_int64()
        with self._lock:
            failed = self._predict(self._handle, ctypes.c_void_p(row.ctypes.data), ctypes.byref(written),
                                   out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)))
        if failed:
            from lightgbm.basic import _LIB

            raise RuntimeError(f"LightGBM's single-row prediction failed: {_LIB.LGBM_GetLastError().decode()}")
        return out.reshape(1, -1) if self._outputs > 1 else out


class LightGBMRuntime:
    """A native LightGBM booster (text model, gzipped) plus the link and offset applied to its raw score."""

    kind = "lightgbm"
    input = "matrix"

    def __init__(self, booster, link: str, base: list[float] | None = None, log_target: bool = False):
        self.booster = booster
        self.link = link
        self.base = np.asarray(base if base is not None else [0.0], dtype=float)
        self.log_target = log_target
        self._fast: FastRow | None = None  # made at the first one-row call: a fold model fitted in a trial never is

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_fast": None}  # LightGBM's configuration is a pointer into this process

    @classmethod
    def from_text(cls, model_text: str, link: str, base: list[float] | None = None,
                  log_target: bool = False) -> LightGBMRuntime:
        import lightgbm

        return cls(lightgbm.Booster(model_str=model_text), link, base, log_target)

    def raw(self, matrix: np.ndarray) -> np.ndarray:
        if len(matrix) == 1 and matrix.ndim == 2:
            if self._fast is None:
                self._fast = FastRow(self.booster)
            scores = self._fast(matrix[0])
        else:
            scores = self.booster.predict(matrix, raw_score=True, num_threads=1)
        return apply_link(scores + (self.base if scores.ndim == 2 else self.base[0]), self.link, self.log_target)

    def describe(self) -> dict[str, Any]:
        return {"trees": self.booster.num_trees(), "features": self.booster.num_feature()}

    def save(self, folder: Path) -> dict[str, Any]:
        text = self.booster.model_to_string()
        write_bytes(folder / "model.txt.gz", gzip.compress(text.encode(), compresslevel=9, mtime=0))
        return {"kind": self.kind, "file": "model/model.txt.gz", "link": self.link, "base": self.base.tolist(),
                "log_target": self.log_target}

    @classmethod
    def load(cls, root: Path, config: dict[str, Any]) -> LightGBMRuntime:
        text = gzip.decompress((root / config["file"]).read_bytes()).decode()
        return cls.from_text(text, config["link"], config.get("base"), config.get("log_target", False))


class LinearDesign:
    """Encoded matrix to a linear model's design: imputed, clipped, standardised numbers, missing flags, one-hots."""

    def __init__(self, numeric: list[int], median: list[float], low: list[float], high: list[float],
                 mean: list[float], scale: list[float], flags: list[int], categorical: list[int],
                 widths: list[int]):
        self.numeric = np.asarray(numeric, dtype=int)
        self.median, self.low, self.high = (np.asarray(v, dtype=float) for v in (median, low, high))
        self.mean, self.scale = np.asarray(mean, dtype=float), np.asarray(scale, dtype=float)
        self.flags = np.asarray(flags, dtype=int)  # positions within `numeric` that get a missing flag
        self.categorical = np.asarray(categorical, dtype=int)
        self.widths = np.asarray(widths, dtype=int)  # codes + "other" + "missing" per categorical column
        self.offsets = len(self.numeric) + len(self.flags) + np.concatenate([[0], np.cumsum(self.widths)[:-1]])
        self.width = int(len(self.numeric) + len(self.flags) + self.widths.sum())

    @classmethod
    def fit(cls, matrix: np.ndarray, numeric: list[int], categorical: list[int], n_codes: list[int]) -> LinearDesign:
        values = matrix[:, numeric]
        median = np.nan_to_num(np.nanmedian(values, axis=0), nan=0.0) if len(numeric) else np.zeros(0)
        filled = np.where(np.isnan(values), median, values)
        low, high = (filled.min(axis=0), filled.max(axis=0)) if len(filled) else (median, median)
        mean, scale = filled.mean(axis=0), filled.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        flags = [i for i in range(len(numeric)) if np.isnan(values[:, i]).any()]
        return cls(list(numeric), median.tolist(), low.tolist(), high.tolist(), mean.tolist(), scale.tolist(),
                   flags, list(categorical), [n + 2 for n in n_codes])

    def transform(self, matrix: np.ndarray) -> np.ndarray:
        n = len(matrix)
        out = np.zeros((n, self.width))
        values = matrix[:, self.numeric]
        missing = np.isnan(values)
        filled = np.clip(np.where(missing, self.median, values), self.low, self.high)
        k = len(self.numeric)
        out[:, :k] = (filled - self.mean) / self.scale
        out[:, k:k + len(self.flags)] = missing[:, self.flags]
        if len(self.categorical):
            codes = matrix[:, self.categorical]
            codes = np.where(np.isnan(codes), self.widths - 1, np.minimum(codes, self.widths - 2)).astype(int)
            rows = np.repeat(np.arange(n), len(self.categorical))
            out[rows, (codes + self.offsets).ravel()] = 1.0
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"numeric": self.numeric.tolist(), "median": self.median.tolist(), "low": self.low.tolist(),
                "high": self.high.tolist(), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "flags": self.flags.tolist(), "categorical": self.categorical.tolist(), "widths": self.widths.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinearDesign:
        return cls(**data)


class LinearRuntime:
    """A linear or logistic model: the design above, a coefficient matrix, an intercept and a link."""

    kind = "linear"
    input = "matrix"

    def __init__(self, design: LinearDesign, coef: np.ndarray, intercept: np.ndarray, link: str,
                 log_target: bool = False):
        self.design = design
        self.coef = np.atleast_2d(np.asarray(coef, dtype=float))
        self.intercept = np.atleast_1d(np.asarray(intercept, dtype=float))
        self.link = link
        self.log_target = log_target

    def raw(self, matrix: np.ndarray) -> np.ndarray:
        scores = self.design.transform(matrix) @ self.coef.T + self.intercept
        if self.link != SOFTMAX:
            scores = scores[:, 0]
        return apply_link(scores, self.link, self.log_target)

    def describe(self) -> dict[str, Any]:
        return {"coefficients": int(self.coef.size)}

    def save(self, folder: Path) -> dict[str, Any]:
        write_json(folder / "linear.json", {"design": self.design.to_dict(), "coef": self.coef.tolist(),
                                            "intercept": self.intercept.tolist()})
        return {"kind": self.kind, "file": "model/linear.json", "link": self.link, "log_target": self.log_target}

    @classmethod
    def load(cls, root: Path, config: dict[str, Any]) -> LinearRuntime:
        data = json.loads((root / config["file"]).read_text())
        return cls(LinearDesign.from_dict(data["design"]), np.asarray(data["coef"]), np.asarray(data["intercept"]),
                   config["link"], config.get("log_target", False))


# Every model family a production artifact can hold, by the `kind` its production.json names: the one registry
# `load_model` reads. Classes are named, not imported: AutoGluon's runtime loads AutoGluon, and only an
# artifact holding an AutoGluon model may pay for that.
RUNTIMES: dict[str, str] = {
    LightGBMRuntime.kind: "agent.runtime.runtimes:LightGBMRuntime",
    LinearRuntime.kind: "agent.runtime.runtimes:LinearRuntime",
    "blend": "agent.runtime.blend:BlendRuntime",
    "models": "agent.runtime.models_blend:ModelsBlendRuntime",
    "catboost": "agent.runtime.catboost_runtime:CatBoostRuntime",
    "autogluon": "agent.runtime.autogluon_runtime:AutoGluonRuntime",
}


def runtime_class(kind: str) -> type[Runtime]:
    """The runtime class of a kind, imported when first asked for."""
    import importlib

    if kind not in RUNTIMES:
        raise ValueError(f"Unknown model kind {kind!r}: podium knows {', '.join(sorted(RUNTIMES))}")
    module, name = RUNTIMES[kind].split(":")
    return getattr(importlib.import_module(module), name)
