"""Decompression that cannot fill the disk or the memory: a byte limit and a ratio limit, checked while reading.

Declared sizes (a zip header) can lie and gzip declares nothing, so the only honest bound is counting the
bytes as they come out. The same limits cover archives a server sends and compressed tables in a folder.
A table is counted whole (`check_size`) before pandas parses any of it: the parser holds several times the
bytes it has read (up to 14x for a dense numeric CSV), so stopping it mid-way would be too late for memory.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
from pathlib import Path
from typing import BinaryIO

from agent.config import Limits
from agent.errors import InputError


class TooLarge(InputError):
    """Decompressed data past a limit; nothing read is kept."""


class _Counted(io.RawIOBase):
    """A readable stream that raises once more than `allowed` bytes came out of `inner`."""

    def __init__(self, inner: BinaryIO, allowed: int, limits: Limits, where: str, compressed: int,
                 owner: zipfile.ZipFile | None = None):
        self.inner, self.allowed, self.limits, self.where, self.compressed = inner, allowed, limits, where, compressed
        self.owner = owner
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.inner.read(len(buffer))
        self.total += len(data)
        if self.total > self.allowed:
            raise too_large(self.where, self.total, self.allowed, self.limits, self.compressed)
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self.inner.close()
        if self.owner is not None:
            self.owner.close()
        super().close()


def too_large(where: str, seen: int, allowed: int, limits: Limits, compressed: int) -> TooLarge:
    if allowed < limits.max_bytes:
        what = (f"It decompresses to more than {allowed:,} bytes, over {limits.max_ratio:g} times its "
                f"{compressed:,} compressed bytes (seen so far: {seen:,})")
        fix = "nothing was kept; if this file is genuine, raise kaggle.max_compression_ratio"
    else:
        what = f"It decompresses to more than {allowed:,} bytes (seen so far: {seen:,})"
        fix = f"nothing was kept; if this file is genuine, raise {limits.max_bytes_setting}"
    return TooLarge(what, where=where, fix=fix)


def bounded(stream: BinaryIO, limits: Limits, where: str, compressed: int,
            owner: zipfile.ZipFile | None = None) -> BinaryIO:
    """`stream` (decompressing) as a buffered reader that stops at the limits for `compressed` input bytes."""
    return io.BufferedReader(_Counted(stream, limits.allowed(compressed), limits, where, compressed, owner))


COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
CHUNK = 1 << 20


def check_size(path: Path, limits: Limits) -> int:
    """The bytes `path` holds once decompressed, counted in constant memory; TooLarge past the limits.

    A plain file is measured on disk against `max_bytes`; a compressed one is decompressed once, in chunks
    that are thrown away, so a bomb is refused before anything keeps its bytes."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in COMPRESSED and suffix != ".zip":
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise TooLarge(f"It holds {size:,} bytes, over the {limits.max_bytes:,} podium reads into memory (a "
                           "table in memory takes several times its file's bytes)", where=str(path),
                           fix="nothing was read; if this file is genuine and the memory is there, raise "
                               f"{limits.max_bytes_setting}")
        return size
    total = 0
    with open_table(path, limits) as stream:
        while chunk := stream.read(CHUNK):
            total += len(chunk)
    return total


def open_table(path: Path, limits: Limits) -> BinaryIO:
    """Open a table file for reading, decompressing `.gz`, `.bz2`, `.xz` and single-file `.zip` within limits."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in COMPRESSED:
        return bounded(COMPRESSED[suffix](path, "rb"), limits, str(path), path.stat().st_size)
    if suffix == ".zip":
        try:
            bundle = zipfile.ZipFile(path)
            members = [m for m in bundle.infolist() if not m.is_dir()]
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"The file is not a readable zip archive ({exc})", where=str(path),
                             fix="download it again, or unzip it yourself and point podium at the CSV") from exc
        if len(members) != 1:
            bundle.close()
            raise InputError(f"The zip archive holds {len(members)} files; a zipped table must hold exactly one",
                             where=str(path), fix="unzip it and point podium at the folder of CSV files")
        return bounded(bundle.open(members[0]), limits, f"{path} ({members[0].filename})", path.stat().st_size,
                       owner=bundle)
    return open(path, "rb")
