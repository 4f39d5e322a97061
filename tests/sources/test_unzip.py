"""Safe unzip: nothing outside the target, no links, no zip bombs, nothing half-kept."""

from __future__ import annotations

import stat
import zipfile

import pytest

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
    written = safe_extract(archive, tmp_path / "out", max_bytes=1000)
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == ["sub/test.csv", "train.csv"]
    assert (tmp_path / "out" / "train.csv").read_bytes() == b"a,b\n1,2\n"


@pytest.mark.parametrize("name", ["../evil.csv", "sub/../../evil.csv", "/tmp/evil.csv", "C:/evil.csv",
                                  "..\\evil.csv"])
def test_paths_that_escape_are_refused_and_nothing_is_written(tmp_path, name):
    archive = _zip(tmp_path / "slip.zip", {"train.csv": b"x\n", name: b"pwned\n"})
    target = tmp_path / "deep" / "out"
    with pytest.raises(UnsafeArchiveError, match="outside the target"):
        safe_extract(archive, target, max_bytes=1000)
    assert not target.exists()
    assert not (tmp_path / "deep" / "evil.csv").exists() and not (tmp_path / "evil.csv").exists()


def test_symlinks_are_refused(tmp_path):
    archive = _zip(tmp_path / "link.zip", {"train.csv": b"x\n"}, link="test.csv")
    with pytest.raises(UnsafeArchiveError, match="link"):
        safe_extract(archive, tmp_path / "out", max_bytes=1000)
    assert not (tmp_path / "out").exists()


def test_an_archive_over_the_size_limit_is_refused(tmp_path):
    archive = _zip(tmp_path / "big.zip", {"train.csv": b"0" * 5000})
    with pytest.raises(UnsafeArchiveError, match="over the limit of 4,999"):
        safe_extract(archive, tmp_path / "out", max_bytes=4999)
    assert not (tmp_path / "out").exists()
    assert safe_extract(archive, tmp_path / "ok", max_bytes=5000)


def test_too_many_members_are_refused(tmp_path):
    archive = _zip(tmp_path / "many.zip", {f"f{i}.csv": b"x" for i in range(5)})
    with pytest.raises(UnsafeArchiveError, match="5 entries"):
        safe_extract(archive, tmp_path / "out", max_bytes=1000, max_members=4)


def test_a_file_that_is_not_a_zip_is_a_remote_error(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_text("<html>oops</html>")
    with pytest.raises(RemoteError, match="not a valid zip"):
        safe_extract(bad, tmp_path / "out", max_bytes=1000)
