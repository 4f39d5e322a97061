"""Unpack a downloaded archive without trusting it: nothing outside the target, no links, no zip bombs."""

from __future__ import annotations

import shutil
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from agent.config import Limits
from agent.errors import RemoteError
from agent.tables.decompress import too_large

CHUNK = 1 << 20


class UnsafeArchiveError(RemoteError):
    """The server sent an archive podium refuses to unpack."""


def _check_name(name: str, archive: Path) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or (path.parts and ":" in path.parts[0]) or ".." in path.parts:
        raise UnsafeArchiveError(f"The archive holds '{name}', a path that would land outside the target folder",
                                 where=str(archive), fix="nothing was unpacked; report it to the competition's host")
    return path


def safe_extract(archive: Path, target: Path, limits: Limits, max_members: int = 10_000) -> list[Path]:
    """Extract `archive` into `target` (which must be empty or absent); return the files written.

    Refuses absolute paths, '..', symlinks and other special files, more than `max_members` entries, two
    entries at one path, and archives that unpack past `limits` (checked against the declared sizes first,
    then while writing, since declared sizes can lie). On refusal, everything written so far is removed.
    """
    archive, target = Path(archive), Path(target)
    compressed = archive.stat().st_size
    max_bytes = limits.allowed(compressed)
    try:
        bundle = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise RemoteError("The downloaded file is not a valid zip archive", where=str(archive),
                          fix="run again with --refresh; if it persists, the server sends a broken file") from exc
    with bundle:
        members = bundle.infolist()
        if len(members) > max_members:
            raise UnsafeArchiveError(f"The archive holds {len(members)} entries (the limit is {max_members})",
                                     where=str(archive), fix="raise kaggle.max_archive_members if this is expected")
        declared = sum(m.file_size for m in members)
        if declared > max_bytes:
            raise _refused(too_large(str(archive), declared, max_bytes, limits, compressed))
        for member in members:
            _check_name(member.filename, archive)
            kind = stat.S_IFMT(member.external_attr >> 16)  # 0 when the archiver recorded no Unix type
            if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
                raise UnsafeArchiveError(f"The archive holds '{member.filename}', a link or special file",
                                         where=str(archive), fix="nothing was unpacked; report it to the host")
        target.mkdir(parents=True, exist_ok=True)
        root = target.resolve()
        written: list[Path] = []
        total = 0
        try:
            for member in members:
                relative = _check_name(member.filename, archive)
                destination = root.joinpath(*relative.parts).resolve()
                if destination != root and root not in destination.parents:
                    raise UnsafeArchiveError(f"'{member.filename}' resolves outside the target folder",
                                             where=str(archive))
                try:
                    if member.is_dir():
                        destination.mkdir(parents=True, exist_ok=True)
                        continue
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    if destination.exists():
                        raise UnsafeArchiveError(f"The archive holds '{member.filename}' twice",
                                                 where=str(archive), fix="nothing was kept; report it to the host")
                    with bundle.open(member) as source, open(destination, "xb") as sink:
                        while chunk := source.read(CHUNK):
                            total += len(chunk)
                            if total > max_bytes:
                                raise _refused(too_large(str(archive), total, max_bytes, limits, compressed))
                            sink.write(chunk)
                except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
                    raise UnsafeArchiveError(
                        f"The archive holds '{member.filename}' where it already put a file or folder of the "
                        f"same name", where=str(archive), fix="nothing was kept; report it to the host") from exc
                except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                    raise UnsafeArchiveError(
                        f"The archive is damaged or lies about '{member.filename}' ({exc})", where=str(archive),
                        fix="nothing was kept; run again with --refresh, and report it to the host if it "
                            "persists") from exc
                written.append(destination)
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            shutil.rmtree(target, ignore_errors=True)
            raise
    return written


def _refused(error) -> UnsafeArchiveError:
    return UnsafeArchiveError(f"The archive is too large to unpack. {error.what}", where=error.where, fix=error.fix)
