"""Compiled inference paths for tree models, measured on the same LightGBM boosters as today's Booster.predict.

    .venv/bin/pip install -e '.[paths]'   # lleaves, onnxmltools, treelite, tl2cgen: benchmark-only
    .venv/bin/python benchmarks/inference_paths.py [--tasks adult_income diamonds_price hpc_class]
        [--sizes 7x40 31x400 63x2000 bag8x31x400] [--rounds 3] [--calls 2000] [--max-compile-leaves 13000]

Boosters are fitted as the production phase fits them (strategies/production/gbm.py: fit_booster on the encoded
matrix of a corpus competition); "bag8x31x400" is 8 boosters of 31 leaves x 400 trees, each fitted on 7/8 of the
rows, merged into one booster whose leaves are scaled by 1/8 (the mean of the 8). Paths:

    lightgbm          Booster.predict(raw_score=True, num_threads=1): today's LightGBMRuntime
    lightgbm-fastrow  LightGBM's C API single-row predictor (PredictForMatSingleRowFast, set up once), batches as above
    lleaves           lleaves.Model.compile(cache=..., raw_score=True) (LLVM through llvmlite), predict(n_jobs=1)
    lleaves-direct    the same compiled function called through ctypes with preallocated buffers (a thin wrapper)
    onnxruntime       onnxmltools.convert_lightgbm, one intra- and one inter-op thread, sequential execution
    tl2cgen           Treelite model compiled to a C shared library with gcc (tl2cgen.export_lib), nthread=1
    gtil              Treelite's own interpreter (treelite.gtil.predict, nthread=1): no compiler, no codegen

Single-row figures time one call on a numpy row already encoded (>= `calls` calls after 200 of warm-up); the
"dict" figures time `ProductionModel.predict` from a raw dict row through the real encoder with
agent.runtime.latency.measure_latency (its rows/s include the pandas encoder). Rounds alternate the paths (the
order rotated each round) and record the load average. Compiled paths are skipped on models with more than
`--max-compile-leaves` leaves (compile times grow with the forest: see the setup records). Every measurement is
appended as one JSON line to benchmarks/results/inference_paths.jsonl; compiled artifacts are cached in --work.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.arena.demo import build_from_corpus  # noqa: E402
from agent.runtime.latency import measure_latency  # noqa: E402
from agent.runtime.model import ProductionModel  # noqa: E402
from agent.runtime.runtimes import apply_link  # noqa: E402
from strategies.production.gbm import fit_booster, hard_target  # noqa: E402
from strategies.production.problem import make_problem, serving_rows  # noqa: E402
from tests.artifacts import corpus_from_folder  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "inference_paths.jsonl"
PATHS = ["lightgbm", "lightgbm-fastrow", "lleaves", "lleaves-direct", "onnxruntime", "tl2cgen", "gtil"]
COMPILED = {"lleaves", "lleaves-direct", "tl2cgen"}
LEARNING_RATE = {7: 0.15, 31: 0.03, 63: 0.02}
EVAL_ROWS = 10_000


# --- models ---------------------------------------------------------------------------------------------------

def parse_size(size: str) -> tuple[int, int, int]:
    """'31x400' -> (1, 31, 400); 'bag8x31x400' -> (8, 31, 400)."""
    bag = re.match(r"bag(\d+)x(\d+)x(\d+)$", size)
    if bag:
        return int(bag[1]), int(bag[2]), int(bag[3])
    leaves, trees = (int(v) for v in size.split("x"))
    return 1, leaves, trees


def merge_bag(texts: list[str]) -> str:
    """One LightGBM model text holding every tree of `texts`, leaf values scaled by 1/len(texts)."""
    import lightgbm

    weight = 1.0 / len(texts)
    first = texts[0]
    header = re.sub(r"^tree_sizes=.*\n", "", first[:first.index("Tree=0")], flags=re.M)
    trailer = first[first.index("end of trees"):]
    trailer = trailer[:trailer.index("feature_importances:")] + trailer[trailer.index("parameters:"):]
    blocks = []
    for text in texts:
        body = text[text.index("Tree=0"):text.index("end of trees")]
        for block in re.split(r"^Tree=\d+\n", body, flags=re.M)[1:]:
            block = re.sub(r"^leaf_value=(.*)$", lambda m: "leaf_value=" + " ".join(
                repr(float(v) * weight) for v in m[1].split()), block.strip("\n"), flags=re.M)
            blocks.append(f"Tree={len(blocks)}\n{block}\n\n\n")
    merged = header + "".join(blocks) + trailer
    return lightgbm.Booster(model_str=merged).model_to_string()  # rewrites tree_sizes


def build_models(task: str, sizes: list[str], work: Path) -> dict:
    folder = work / "competitions" / task
    if not (folder / "competition.yaml").exists():
        build_from_corpus(task, folder)
    corpus = corpus_from_folder(folder)
    problem = make_problem(corpus.competition, corpus.dataset, threads=2, read_texts=False)  # ONNX reads no words
    target = hard_target(problem)
    models = {}
    for size in sizes:
        bag, leaves, trees = parse_size(size)
        if problem.problem_type == "multiclass" and (bag > 1 or trees > 400):
            continue  # K trees per round: the larger multiclass forests cost K times as much everywhere
        path = work / "models" / f"{task}-{size}.txt"
        started = time.perf_counter()
        if not path.exists():
            params = {"num_leaves": leaves, "n_estimators": trees, "learning_rate": LEARNING_RATE.get(leaves, 0.05),
                      "min_child_samples": 20 if leaves < 31 else 10}
            n = len(problem.y)
            folds = np.random.default_rng(0).permutation(n) % bag
            texts = [fit_booster(problem, params, np.flatnonzero(folds != k) if bag > 1 else np.arange(n),
                                 target).booster.model_to_string() for k in range(bag)]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(merge_bag(texts) if bag > 1 else texts[0])
        models[size] = {"text": path.read_text(), "file": path, "fit_s": time.perf_counter() - started}
    X, y = problem.X, problem.y
    test = problem.encode(corpus.dataset.X_test)
    rng = np.random.default_rng(0)
    real = np.vstack([test, X])
    real = real[rng.choice(len(real), EVAL_ROWS - EVAL_ROWS // 5, replace=len(real) < EVAL_ROWS)]
    holes = real[rng.choice(len(real), EVAL_ROWS // 5)].copy()
    holes[rng.random(holes.shape) < 0.1] = np.nan  # missing values take every tree's default branch
    return {"task": task, "problem": problem, "dataset": corpus.dataset, "models": models, "rows": len(y),
            "eval": np.ascontiguousarray(np.vstack([real, holes])), "link": problem_link(problem.problem_type)}


def problem_link(problem_type: str) -> str:
    return {"binary": "sigmoid", "multiclass": "softmax"}.get(problem_type, "identity")


# --- paths: each returns a predictor of served predictions (podium's convention) and its setup figures ----------

def shape(raw: np.ndarray, n: int) -> np.ndarray:
    raw = np.asarray(raw, dtype=np.float64).reshape(n, -1)
    return raw[:, 0] if raw.shape[1] == 1 else raw


def setup_path(name: str, model: dict, link: str, work: Path) -> dict:
    """Convert/compile (timed, cached in `work` by the model's hash), load from the artifact (timed)."""
    text, digest = model["text"], hashlib.sha1(model["text"].encode()).hexdigest()[:12]
    art = work / "artifacts"
    art.mkdir(parents=True, exist_ok=True)
    timings = art / f"{digest}-{name.split('-')[0]}.json"
    known = json.loads(timings.read_text()) if timings.exists() else {}
    started = time.perf_counter()
    if name in ("lightgbm", "lightgbm-fastrow"):
        import gzip

        import lightgbm

        artifact_bytes = len(gzip.compress(text.encode(), compresslevel=9, mtime=0))
        started = time.perf_counter()
        booster = lightgbm.Booster(model_str=text)
        def served(X):
            return apply_link(booster.predict(X, raw_score=True, num_threads=1), link)
        if name == "lightgbm-fastrow":
            served = fastrow(booster, served, link)
        load_s = time.perf_counter() - started
    elif name in ("lleaves", "lleaves-direct"):
        import lleaves

        started = time.perf_counter()
        obj = art / f"{digest}.lleaves.o"
        if not obj.exists():
            lleaves.Model(str(model["file"])).compile(cache=str(obj), raw_score=True)
            known = {"convert_s": time.perf_counter() - started}
        started = time.perf_counter()
        compiled = lleaves.Model(str(model["file"]))
        compiled.compile(cache=str(obj), raw_score=True)
        load_s, artifact_bytes = time.perf_counter() - started, obj.stat().st_size
        def served(X):
            return apply_link(compiled.predict(X, n_jobs=1), link)
        if name == "lleaves-direct":
            served = lleaves_direct(compiled, served, link)
    elif name == "onnxruntime":
        import onnxruntime as ort

        onx = art / f"{digest}.onnx"
        if not onx.exists():
            import lightgbm
            import onnxmltools
            from onnxmltools.convert.common.data_types import FloatTensorType

            started = time.perf_counter()
            booster = lightgbm.Booster(model_str=text)
            converted = onnxmltools.convert_lightgbm(
                booster, initial_types=[("input", FloatTensorType([None, booster.num_feature()]))], zipmap=False)
            onx.write_bytes(converted.SerializeToString())
            known = {"convert_s": time.perf_counter() - started}
        started = time.perf_counter()
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        session = ort.InferenceSession(onx.read_bytes(), options, providers=["CPUExecutionProvider"])
        load_s, artifact_bytes = time.perf_counter() - started, onx.stat().st_size
        output, binary = session.get_outputs()[-1].name, link == "sigmoid"

        def served(X):
            out = session.run([output], {"input": X.astype(np.float32)})[0].astype(np.float64)
            return out[:, 1] if binary else shape(out, len(X))
    elif name == "tl2cgen":
        import tl2cgen
        import treelite

        lib = art / f"{digest}.so"
        if not lib.exists():
            import lightgbm

            started = time.perf_counter()
            forest = treelite.frontend.from_lightgbm(lightgbm.Booster(model_str=text))
            tl2cgen.export_lib(forest, toolchain="gcc", libpath=str(lib), params={"parallel_comp": 2}, nthread=2,
                               verbose=False)
            known = {"convert_s": time.perf_counter() - started}
        started = time.perf_counter()
        predictor = tl2cgen.Predictor(str(lib), nthread=1)
        load_s, artifact_bytes = time.perf_counter() - started, lib.stat().st_size
        def served(X):
            return apply_link(shape(predictor.predict(tl2cgen.DMatrix(X), pred_margin=True), len(X)), link)
    elif name == "gtil":
        import treelite

        checkpoint = art / f"{digest}.treelite"
        if not checkpoint.exists():
            import lightgbm

            started = time.perf_counter()
            treelite.frontend.from_lightgbm(lightgbm.Booster(model_str=text)).serialize(str(checkpoint))
            known = {"convert_s": time.perf_counter() - started}
        started = time.perf_counter()
        forest = treelite.Model.deserialize(str(checkpoint))
        load_s, artifact_bytes = time.perf_counter() - started, checkpoint.stat().st_size
        def served(X):
            return apply_link(shape(treelite.gtil.predict(forest, X, nthread=1, pred_margin=True), len(X)), link)
    else:
        raise ValueError(name)
    timings.write_text(json.dumps(known))
    return {"served": served, "convert_s": known.get("convert_s", 0.0), "load_s": load_s,
            "artifact_bytes": artifact_bytes}


def fastrow(booster, batch, link: str):
    """LightGBM's single-row C API, set up once: no parameter parsing or Python wrapping per call."""
    from lightgbm.basic import _LIB, _c_str, _safe_call

    handle = ctypes.c_void_p()
    _safe_call(_LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
        booster._handle, ctypes.c_int(1), ctypes.c_int(0), ctypes.c_int(-1), ctypes.c_int(1),  # raw, float64
        ctypes.c_int32(booster.num_feature()), _c_str("num_threads=1"), ctypes.byref(handle)))
    k = booster.num_model_per_iteration()
    out, out_len = np.empty(k), ctypes.c_int64()
    out_ptr = out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
    call = _LIB.LGBM_BoosterPredictForMatSingleRowFast
    fastrow.handles.append((handle, booster))

    def served(X):
        if len(X) != 1:
            return batch(X)
        X = np.ascontiguousarray(X, dtype=np.float64)
        if call(handle, ctypes.c_void_p(X.ctypes.data), ctypes.byref(out_len), out_ptr) != 0:
            raise RuntimeError("LightGBM single-row prediction failed")
        return apply_link(out.reshape(1, k) if k > 1 else out.copy(), link)
    return served


fastrow.handles = []


def lleaves_direct(compiled, batch, link: str):
    """lleaves' compiled function called straight through ctypes (no input conversion or checks)."""
    k = compiled.num_model_per_iteration()
    out = np.zeros(k)
    out_ptr = out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
    entry = compiled._c_entry_func

    def served(X):
        if len(X) != 1:
            return batch(X)
        X = np.ascontiguousarray(X, dtype=np.float64)
        entry(X.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), out_ptr, 0, 1)
        return apply_link(out.reshape(1, k) if k > 1 else out.copy(), link)
    return served


class PathRuntime:
    """A served path as a production runtime, so ProductionModel (schema, encoder, output) can wrap it."""

    kind, input = "bench", "matrix"

    def __init__(self, served):
        self.raw = served


# --- measurement ----------------------------------------------------------------------------------------------

def time_single(served, rows: list[np.ndarray], calls: int, warmup: int = 200) -> np.ndarray:
    for i in range(warmup):
        served(rows[i % len(rows)])
    times = np.empty(calls)
    gc.collect()
    for i in range(calls):
        row = rows[i % len(rows)]
        t0 = time.perf_counter()
        served(row)
        times[i] = time.perf_counter() - t0
    return times * 1e6


def time_batch(served, batch: np.ndarray, repeats: int = 3) -> float:
    served(batch)
    spent = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        served(batch)
        spent.append(time.perf_counter() - t0)
    return len(batch) / float(np.median(spent))


def exactness(served, reference: np.ndarray, rows: np.ndarray) -> dict:
    got = np.concatenate([served(rows[i:i + 1000]) for i in range(0, len(rows), 1000)])
    diff = np.abs(got - reference)
    scale = np.maximum(np.abs(reference), 1.0)
    return {"max_abs_diff": float(diff.max()), "max_rel_diff": float((diff / scale).max()),
            "rows_diff_over_1e-9": int((diff.reshape(len(rows), -1).max(axis=1) > 1e-9).sum())}


PORTABLE = """
import os, shutil, sys, numpy as np
assert shutil.which("gcc") is None and shutil.which("cc") is None, "a compiler is on PATH"
kind, artifact, model_file, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
X = np.random.default_rng(0).random((5, n))
if kind == "tl2cgen":
    import tl2cgen
    out = tl2cgen.Predictor(artifact, nthread=1).predict(tl2cgen.DMatrix(X), pred_margin=True)
elif kind == "lleaves":
    import lleaves
    m = lleaves.Model(model_file); m.compile(cache=artifact, raw_score=True); out = m.predict(X, n_jobs=1)
print("ok", np.asarray(out).ravel()[:2])
"""


def portable(kind: str, artifact: Path, model_file: Path, n_features: int) -> str:
    """Load a shipped artifact in a process with no compiler on PATH (the machine's own libc and libm stay)."""
    env = {**os.environ, "PATH": "/nonexistent"}
    done = subprocess.run([sys.executable, "-c", PORTABLE, kind, str(artifact), str(model_file), str(n_features)],
                          env=env, capture_output=True, text=True, timeout=120)
    return done.stdout.strip().splitlines()[-1] if done.returncode == 0 and done.stdout.strip() else \
        f"failed: {done.stderr.strip().splitlines()[-1:]}"


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("lightgbm", "lleaves", "llvmlite", "onnxruntime", "onnx", "onnxmltools", "treelite", "tl2cgen"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return found


def commit() -> str:
    root = Path(__file__).resolve().parent.parent
    return subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()


def append(record: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as out:
        out.write(json.dumps(record) + "\n")


def leaves_of(text: str) -> int:
    return sum(int(v) for v in re.findall(r"^num_leaves=(\d+)$", text, flags=re.M))


# --- the run --------------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=["adult_income", "diamonds_price", "hpc_class"])
    parser.add_argument("--sizes", nargs="+", default=["7x40", "31x400", "63x2000", "bag8x31x400"])
    parser.add_argument("--paths", nargs="+", default=PATHS, choices=PATHS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--max-compile-leaves", type=int, default=13_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/podium-inference-paths"))
    args = parser.parse_args()
    run = {"bench": "inference_paths", "commit": commit(), "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
           "cpus": os.cpu_count()}
    print("versions:", versions())
    setups, cells = [], []
    for task in args.tasks:
        data = build_models(task, args.sizes, args.work)
        problem = data["problem"]
        rows = serving_rows(data["dataset"], problem.schema)
        evaluation = data["eval"]
        singles = [evaluation[i:i + 1] for i in range(min(len(evaluation), args.calls))]
        batch = evaluation[:1000]
        for size, model in data["models"].items():
            import lightgbm

            booster = lightgbm.Booster(model_str=model["text"])
            reference = apply_link(booster.predict(evaluation, raw_score=True, num_threads=1), data["link"])
            leaves = leaves_of(model["text"])
            base = {**run, "task": task, "problem_type": problem.problem_type, "train_rows": data["rows"],
                    "features": problem.X.shape[1], "model": size, "trees": booster.num_trees(), "leaves": leaves}
            live = {}
            for name in args.paths:
                if name in COMPILED and leaves > args.max_compile_leaves:
                    record = {**base, "kind": "setup", "path": name, "skipped":
                              f"{leaves} leaves > --max-compile-leaves {args.max_compile_leaves}"}
                    append(record)
                    setups.append(record)
                    continue
                print(f"setting up {task} {size} {name} ...", flush=True)
                setup = setup_path(name, model, data["link"], args.work)
                record = {**base, "kind": "setup", "path": name, "convert_s": round(setup["convert_s"], 3),
                          "load_s": round(setup["load_s"], 4), "artifact_bytes": setup["artifact_bytes"],
                          **exactness(setup["served"], reference, evaluation), "eval_rows": len(evaluation),
                          "versions": versions()}
                if name in ("tl2cgen", "lleaves") and size == "31x400" and problem.problem_type == "binary":
                    digest = hashlib.sha1(model["text"].encode()).hexdigest()[:12]
                    suffix = ".so" if name == "tl2cgen" else ".lleaves.o"
                    record["no_compiler_load"] = portable(name, args.work / "artifacts" / f"{digest}{suffix}",
                                                          model["file"], problem.X.shape[1])
                append(record)
                setups.append(record)
                live[name] = setup["served"]
            production = {name: ProductionModel(problem.schema, problem.encoder, PathRuntime(served), problem.output)
                          for name, served in live.items()}
            cells.append((base, live, production, singles, batch, rows))
    for r in range(args.rounds):
        load = os.getloadavg()
        print(f"round {r + 1}/{args.rounds}: load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
        for base, live, production, singles, batch, rows in cells:
            names = list(live)
            for name in names[r % len(names):] + names[:r % len(names)]:
                load = os.getloadavg()
                single = time_single(live[name], singles, len(singles) if len(singles) >= 2000 else 2000)
                rate = time_batch(live[name], batch)
                card = measure_latency(production[name], rows, calls=args.calls, warmup=200, batch_size=1000)
                append({**base, "kind": "round", "path": name, "round": r, "loadavg_1m": round(load[0], 2),
                        "calls": len(single), "p50_us": round(float(np.percentile(single, 50)), 2),
                        "p99_us": round(float(np.percentile(single, 99)), 2),
                        "mean_us": round(float(single.mean()), 2), "rows_s_batch1000": round(rate),
                        "dict_p50_us": round(card.p50_ms * 1e3, 2), "dict_p99_us": round(card.p99_ms * 1e3, 2),
                        "dict_calls": card.calls, "dict_rows_s_batch1000_with_encoder": round(card.throughput_rows_s)})
    print_table(run["started"])


def print_table(started: str) -> None:
    records = [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()]
    records = [r for r in records if r.get("started") == started]
    setups = {(r["task"], r["model"], r["path"]): r for r in records if r["kind"] == "setup"}
    rounds: dict = {}
    for r in records:
        if r["kind"] == "round":
            rounds.setdefault((r["task"], r["model"], r["path"]), []).append(r)
    loads = sorted({r["loadavg_1m"] for r in records if r["kind"] == "round"})
    print(f"\nmedian over rounds (± half the spread across rounds); load average 1 min {loads[0]}-{loads[-1]}")
    head = (f"{'task':<15}{'model':<13}{'path':<18}{'p50 us':>14}{'p99 us':>16}{'dict p50/p99 us':>18}"
            f"{'rows/s@1000':>18}{'convert s':>10}{'load ms':>9}{'size kB':>9}{'max|diff|':>10}")
    print(head + "\n" + "-" * len(head))
    for key, setup in setups.items():
        if "skipped" in setup:
            print(f"{key[0]:<15}{key[1]:<13}{key[2]:<18} skipped: {setup['skipped']}")
            continue
        got = rounds.get(key, [])
        if not got:
            continue

        def med(field, got=got):
            values = [g[field] for g in got]
            return float(np.median(values)), (max(values) - min(values)) / 2

        p50, p99, rate = med("p50_us"), med("p99_us"), med("rows_s_batch1000")
        d50, d99 = med("dict_p50_us")[0], med("dict_p99_us")[0]
        print(f"{key[0]:<15}{key[1]:<13}{key[2]:<18}{p50[0]:>8.1f} ±{p50[1]:<5.1f}{p99[0]:>9.1f} ±{p99[1]:<5.1f}"
              f"{d50:>9.0f}/{d99:<8.0f}{rate[0]:>11,.0f} ±{rate[1]:<6,.0f}{setup['convert_s']:>9.1f}"
              f"{setup['load_s'] * 1e3:>9.1f}{setup['artifact_bytes'] / 1e3:>9.0f}{setup['max_abs_diff']:>10.1e}")
    for setup in setups.values():
        if "no_compiler_load" in setup:
            print(f"no compiler on PATH, {setup['path']} artifact of {setup['task']} {setup['model']}: "
                  f"{setup['no_compiler_load']}")


if __name__ == "__main__":
    main()
