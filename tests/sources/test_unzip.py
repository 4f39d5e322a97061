"""Safe unzip: nothing outside the target, no links, no zip bombs, nothing half-kept."""

from __future__ import annotations

import stat
import zipfile

import pytest

from agent.config import Limits
from agent.errors import RemoteError
from agent.kaggle.unzip import UnsafeArchiveError, safe_extract


def _zip(path, members: dict[str, bytes], link: str | None = None):
    with zipfile.ZipFile(path, "w") as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            bundle.writestr(info, "/etc/passwd")
    return path


def test_a_plain_archive_is_extracted(tmp_path):
    archive = _zip(tmp_path / "ok.zip", {"train.csv": b"a,b\n1,2\n", "sub/test.csv": b"a\n1\n"})
    written = safe_extract(archive, tmp_path / "out", Limits(max_bytes=1000, max_ratio=250))
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == ["sub/test.csv", "train.csv"]
    assert (tmp_path / "out" / "train.csv").read_bytes() == b"a,b\n1,2\n"


@pytest.mark.parametrize("name", ["../evil.csv", "sub/../../evil.csv", "/tmp/evil.csv", "C:/evil.csv",
                                  "..\\evil.csv"])
def test_paths_that_escape_are_refused_and_nothing_is_written(tmp_path, name):
    archive = _zip(tmp_path / "slip.zip", {"train.csv": b"x\n", name: b"pwned\n"})
    target = tmp_path / "deep" / "out"
    with pytest.raises(UnsafeArchiveError, match="outside the target"):
        safe_extract(archive, target, Limits(max_bytes=1000, max_ratio=250))
    assert not target.exists()
    assert not (tmp_path / "deep" / "evil.csv").exists() and not (tmp_path / "evil.csv").exists()


def test_symlinks_are_refused(tmp_path):
    archive = _zip(tmp_path / "link.zip", {"train.csv": b"x\n"}, link="test.csv")
    with pytest.raises(UnsafeArchiveError, match="link"):
        safe_extract(archive, tmp_path / "out", Limits(max_bytes=1000, max_ratio=250))
    assert not (tmp_path / "out").exists()


def test_an_archive_over_the_size_limit_is_refused(tmp_path):
    archive = _zip(tmp_path / "big.zip", {"train.csv": b"0" * 5000})
    with pytest.raises(UnsafeArchiveError, match="more than 4,999 bytes"):
        safe_extract(archive, tmp_path / "out", Limits(max_bytes=4999, max_ratio=250))
    assert not (tmp_path / "out").exists()
    assert safe_extract(archive, tmp_path / "ok", Limits(max_bytes=5000, max_ratio=250))


def test_too_many_members_are_refused(tmp_path):
    archive = _zip(tmp_path / "many.zip", {f"f{i}.csv": b"x" for i in range(5)})
    with pytest.raises(UnsafeArchiveError, match="5 entries"):
        safe_extract(archive, tmp_path / "out", Limits(max_bytes=1000, max_ratio=250), max_members=4)


def test_a_file_that_is_not_a_zip_is_a_remote_error(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_text("<html>oops</html>")
    with pytest.raises(RemoteError, match="not a valid zip"):
        safe_extract(bad, tmp_path / "out", Limits(max_bytes=1000, max_ratio=250))


def test_a_bomb_is_refused_by_its_ratio_before_anything_is_written(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("train.csv", b"0" * 2_000_000)  # about 2 KB compressed: a ratio near 1000
    limits = Limits(max_bytes=10**9, max_ratio=100, ratio_floor_bytes=10_000)
    with pytest.raises(UnsafeArchiveError, match="over 100 times its") as caught:
        safe_extract(archive, tmp_path / "out", limits)
    assert "max_compression_ratio" in caught.value.fix
    assert not (tmp_path / "out").exists()
    assert safe_extract(archive, tmp_path / "ok", Limits(max_bytes=10**9, max_ratio=2000, ratio_floor_bytes=10_000))


def _lie_about_sizes(archive, declared: int) -> None:
    """Rewrite every header's uncompressed size (local and central), as a hostile server could."""
    data = bytearray(archive.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        while at != -1:
            data[at + offset:at + offset + 4] = declared.to_bytes(4, "little")
            at = data.find(signature, at + 4)
    archive.write_bytes(bytes(data))


def lying_zip(archive):
    """A zipped train.csv of 20 KB whose headers say it holds 10 bytes."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("train.csv", b"a,b\n" + b"1,2\n" * 5000)
    _lie_about_sizes(archive, 10)
    return archive


def test_an_archive_whose_header_lies_about_sizes_is_refused_clearly(tmp_path):
    archive = lying_zip(tmp_path / "liar.zip")
    with pytest.raises(UnsafeArchiveError, match="damaged or lies about 'train.csv'"):
        safe_extract(archive, tmp_path / "out", Limits(max_bytes=10**6, max_ratio=250))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("members", [{"data": b"x", "data/train.csv": b"y"}, {"data": b"x", "data/": b""}])
def test_a_file_and_a_folder_of_the_same_name_are_refused_clearly(tmp_path, members):
    archive = _zip(tmp_path / "clash.zip", members)
    with pytest.raises(UnsafeArchiveError, match="where it already put a file or folder") as caught:
        safe_extract(archive, tmp_path / "out", Limits(max_bytes=1000, max_ratio=250))
    assert caught.value.where == str(archive)
    assert not (tmp_path / "out").exists()
