"""Hostile or mistaken input files: each gets a clear error naming the real cause, never a crash or a guess."""

from __future__ import annotations

import gzip
import zipfile

import numpy as np
import pandas as pd
import pytest

from agent.competition.inference import infer_competition
from agent.competition.tables import CompetitionData, read_competition, read_table
from agent.config import Limits
from agent.errors import InputError
from agent.tables.decompress import TooLarge
from agent.tables.files import MAX_HEADER_BYTES
from tests.sources.test_unzip import lying_zip


def _tables(target: np.ndarray, n_test: int = 40):
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"id": range(len(target)), "x": rng.normal(size=len(target)), "y": target})
    test = pd.DataFrame({"id": range(len(target), len(target) + n_test), "x": rng.normal(size=n_test)})
    return train, test, pd.DataFrame({"id": test["id"], "y": 0.0})


CONTINUOUS = {"fractional": np.random.default_rng(1).normal(size=200) * 10,
              "many integers": np.round(np.random.default_rng(1).normal(size=200) * 1000)}


@pytest.mark.parametrize("metric", ["AUC", "Quadratic Weighted Kappa", "Log Loss", "Multiclass Log Loss",
                                    "Categorization Accuracy"])
@pytest.mark.parametrize("kind", list(CONTINUOUS))
def test_a_class_metric_on_a_continuous_target_names_the_target(metric, kind):
    train, test, sample = _tables(CONTINUOUS[kind])
    with pytest.raises(InputError, match="looks continuous") as caught:
        infer_competition("c", CompetitionData(train, test, sample), {"evaluation_metric": metric})
    assert f"'{metric}' scores classes" in caught.value.what and "regression metric" in caught.value.fix


def test_integer_class_codes_are_still_classes():
    codes = np.random.default_rng(2).integers(0, 30, size=600)  # 30 codes, every one seen many times
    train, test, sample = _tables(codes)
    competition = infer_competition("c", CompetitionData(train, test, sample), {"evaluation_metric": "Accuracy"})
    assert competition.problem_type == "multiclass" and len(competition.classes) == 30


@pytest.mark.parametrize(("metric", "values", "message"), [
    ("Mean Absolute Percentage Error", [0.0, 0.0, 3.0], "divides by the target, and 2 of 200 training rows"),
    ("Root Mean Squared Logarithmic Error", [-1.0, -0.5, 3.0], "logarithm of 1 \\+ the target, and 1 of 200"),
])
def test_a_metric_undefined_on_the_target_is_refused(metric, values, message):
    target = np.abs(CONTINUOUS["fractional"]) + 1
    target[:3] = values
    train, test, sample = _tables(target)
    with pytest.raises(InputError, match=message) as caught:
        infer_competition("c", CompetitionData(train, test, sample), {"evaluation_metric": metric})
    assert "Mean Absolute Error" in caught.value.fix


def test_messages_show_plain_values_and_counts(tmp_path):
    train, test, sample = _tables(np.full(200, 1, dtype=np.int64))
    with pytest.raises(InputError) as caught:
        infer_competition("c", CompetitionData(train, test, sample), {})
    assert "(1)" in caught.value.what and "np." not in caught.value.what
    train, test, sample = _tables(CONTINUOUS["fractional"])
    test.loc[[1, 2, 3], "id"] = test.loc[0, "id"]
    sample["id"] = test["id"]
    for frame, name in ((train, "train.csv"), (test, "test.csv"), (sample, "sample_submission.csv")):
        frame.to_csv(tmp_path / name, index=False)
    data = read_competition(tmp_path / "train.csv", tmp_path / "test.csv", tmp_path / "sample_submission.csv")
    with pytest.raises(InputError, match=r"repeats 1 id value\(s\) in 'id' \(4 rows; e\.g\. 200\)") as caught:
        infer_competition("c", data, {})
    assert caught.value.where == str(tmp_path / "test.csv")


def test_repeated_column_names_are_refused_by_name(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("id,mean_radius,area,mean_radius,area,y\n1,2,3,4,5,0\n2,3,4,5,6,1\n")
    with pytest.raises(InputError, match=r"repeats column names \['area', 'mean_radius'\]"):
        read_table(path, "train")


def test_a_compressed_table_is_bounded_while_it_is_read(tmp_path):
    path = tmp_path / "train.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n" + b"1,2\n" * 3_000_000, compresslevel=9))  # 12 MB from ~30 KB
    with pytest.raises(TooLarge, match="train file is too large to read") as caught:
        read_table(path, "train", Limits(max_bytes=10**9, max_ratio=100, ratio_floor_bytes=1_000_000))
    assert "max_compression_ratio" in caught.value.fix and caught.value.where == str(path)
    with pytest.raises(TooLarge, match="more than 5,000,000 bytes"):
        read_table(path, "train", Limits(max_bytes=5_000_000, max_ratio=250))
    assert len(read_table(path, "train", Limits(max_bytes=10**8, max_ratio=250))) == 3_000_000  # within limits it reads


def test_the_default_limits_stop_a_small_bomb_early(tmp_path):
    path = tmp_path / "train.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n" + b"1,2\n" * 25_000_000, compresslevel=9))  # 100 MB out of ~100 KB
    assert path.stat().st_size < 200_000
    with pytest.raises(TooLarge, match="over 250 times"):
        read_table(path, "train")


def test_zipped_tables_that_lie_or_hold_several_files_are_refused(tmp_path):
    liar = lying_zip(tmp_path / "train.csv.zip")
    with pytest.raises(InputError, match="not a readable CSV table"):
        read_table(liar, "train")
    several = tmp_path / "test.csv.zip"
    with zipfile.ZipFile(several, "w") as bundle:
        bundle.writestr("test.csv", "a,b\n1,2\n")
        bundle.writestr("extra.csv", "a,b\n1,2\n")
    with pytest.raises(InputError, match="holds 2 files"):
        read_table(several, "test")


def test_a_runaway_header_line_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "train.csv"
    with path.open("w") as out:
        out.write(",".join(f"c{i}" for i in range(MAX_HEADER_BYTES // 4)))
    with pytest.raises(InputError, match="header line is longer than"):
        read_table(path, "train")


MEMORY_SCRIPT = """
import resource, sys
from agent.config import Limits
from agent.competition.tables import read_table

def virtual_bytes():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))

read_table(sys.argv[2], "warm-up")  # the reader's own code paths loaded before the cap
headroom = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_AS, (virtual_bytes() + headroom, resource.RLIM_INFINITY))
try:
    read_table(sys.argv[1], "train", Limits(max_bytes=int(sys.argv[4]), max_ratio=10**6))
except MemoryError:
    print("MemoryError")
except Exception as error:
    print(type(error).__name__, str(error).replace(chr(10), " "))
else:
    print("read")
"""


@pytest.mark.parametrize("kind", ["gzip members", "plain"])
def test_the_limit_bounds_the_memory_of_reading(tmp_path, kind):
    """A reader capped at 512 MiB of address space above its start refuses a table an unbounded read would
    need gigabytes for (the bytes limit is 200 MB: parsing that much takes over 1 GB), with podium's error."""
    import subprocess
    import sys
    from pathlib import Path

    block = b"1,2\n" * 25_000_000  # 100 MB of the densest numeric CSV: the parser needs ~14 bytes per byte
    if kind == "gzip members":  # members concatenated, as `cat a.gz b.gz` makes them: one gzip stream to readers
        path = tmp_path / "train.csv.gz"
        member = gzip.compress(block, compresslevel=1)
        path.write_bytes(gzip.compress(b"a,b\n", compresslevel=1) + member * 6)
        assert path.stat().st_size < 3_000_000
    else:
        path = tmp_path / "train.csv"
        with path.open("wb") as out:
            out.write(b"a,b\n")
            for _ in range(3):
                out.write(block)
    small = tmp_path / "small.csv"
    small.write_text("a,b\n1,2\n")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(path), str(small), str(512 * 2**20),
                           str(200_000_000)], cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    answer = done.stdout.strip()
    assert answer.startswith("TooLarge The train file is too large to read"), answer
    assert "200,000,000" in answer


def test_the_table_limit_follows_the_memory_available_and_names_its_setting(tmp_path, monkeypatch):
    """auto: a twentieth of the memory available when reading; a plain table over it is refused unread, the
    error naming run.max_table_bytes; an explicit number above the archive limit leaves the archive's."""
    from agent.config import Settings

    monkeypatch.setattr("agent.config.available_memory_bytes", lambda: 20 * 1000)
    limits = Settings().table_limits()
    assert (limits.max_bytes, limits.max_bytes_setting) == (1000, "run.max_table_bytes")
    path = tmp_path / "train.csv"
    path.write_text("a,b\n" + "1,2\n" * 400)  # 1,604 bytes
    with pytest.raises(TooLarge, match="over the 1,000 podium reads") as refused:
        read_table(path, "train", limits)
    assert "run.max_table_bytes" in refused.value.fix
    roomy = Settings(run={"max_table_bytes": 2**40})
    assert roomy.table_limits() == roomy.kaggle.decompress_limits()
