"""The ``DownloadStore`` contract, run against the directory adapter and the in-memory fake."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailguard_core.adapters.download_dir import DirectoryDownloads
from mailguard_core.adapters.memory_downloads import InMemoryDownloads
from mailguard_core.model.errors import InputError, LimitExceeded
from mailguard_core.ports import downloads as port
from mailguard_core.ports.downloads import DownloadStore, Saved


@attrs.frozen
class Harness:
    store: DownloadStore
    #: the bytes stored under an entry name, None when there is no such entry
    read: Callable[[str], bytes | None]
    #: how many entries there are
    count: Callable[[], int]


def directory(tmp_path: Path) -> Harness:
    root = tmp_path / "downloads"

    def read(name: str) -> bytes | None:
        path = root / name
        return path.read_bytes() if path.is_file() and not path.is_symlink() else None

    return Harness(
        DirectoryDownloads(root), read, lambda: len(os.listdir(root)) if root.exists() else 0
    )


def memory(tmp_path: Path) -> Harness:
    fake = InMemoryDownloads()
    return Harness(fake, fake.files.get, lambda: len(fake.files))


@pytest.fixture(params=[directory, memory], ids=["directory", "memory"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    make: Callable[[Path], Harness] = request.param
    return make(tmp_path)


def test_content_is_stored_byte_for_byte_under_its_name(harness: Harness) -> None:
    saved = harness.store.save("report.pdf", b"%PDF-1.4\x00\xff")
    assert saved.name == "report.pdf"
    assert harness.read("report.pdf") == b"%PDF-1.4\x00\xff"
    assert saved.location.endswith("report.pdf")


def test_a_taken_name_gets_a_number_and_nothing_is_replaced(harness: Harness) -> None:
    names = [harness.store.save(n, bytes([i])).name for i, n in enumerate(["a.txt"] * 3)]
    assert names == ["a.txt", "a-1.txt", "a-2.txt"]
    assert [harness.read(n) for n in names] == [b"\x00", b"\x01", b"\x02"]
    assert harness.store.save("README", b"x").name == "README"
    assert harness.store.save("README", b"y").name == "README-1"


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../x", "a\\b", "a\x00b"])
def test_a_name_that_is_not_one_file_name_is_refused_and_nothing_is_stored(
    harness: Harness, name: str
) -> None:
    with pytest.raises(InputError):
        harness.store.save(name, b"x")
    assert harness.count() == 0


def test_after_the_numbered_names_run_out_it_refuses(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LimitExceeded once every candidate name is taken (the bound made small)."""
    few = port.candidate_names.__defaults__  # the default bound, restored by monkeypatch
    assert few == (port.MAX_NAME_ATTEMPTS,)
    monkeypatch.setattr(port.candidate_names, "__defaults__", (3,))
    for _ in range(3):
        harness.store.save("x.bin", b"x")
    with pytest.raises(LimitExceeded):
        harness.store.save("x.bin", b"y")
    assert harness.count() == 3


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=40), st.binary(max_size=64))
def test_any_name_is_stored_as_itself_or_refused(
    harness: Harness, name: str, content: bytes
) -> None:
    """Whatever the name: a plain file name is stored (and read back) under itself or a
    numbered form of it; anything else is refused. Never another place."""
    try:
        saved = harness.store.save(name, content)
    except InputError:
        assert not port.is_plain_name(name)
        return
    except OSError:  # a name the filesystem cannot hold (too long, invalid encoding)
        return
    assert isinstance(saved, Saved)
    assert saved.name in port.candidate_names(name, 50)
    assert harness.read(saved.name) == content


def test_the_directory_is_private_and_links_are_never_followed(tmp_path: Path) -> None:
    """Directory adapter only: the folder is 0700, files 0600, and a planted symlink under
    the wanted name is skipped (the file gets a numbered name; the target is untouched)."""
    root = tmp_path / "downloads"
    root.mkdir(mode=0o700)
    target = tmp_path / "outside.txt"
    target.write_bytes(b"keep")
    (root / "a.txt").symlink_to(target)
    saved = DirectoryDownloads(root).save("a.txt", b"new")
    assert saved.name == "a-1.txt" and target.read_bytes() == b"keep"
    assert (root / "a-1.txt").stat().st_mode & 0o777 == 0o600
    fresh = tmp_path / "state" / "downloads"
    DirectoryDownloads(fresh).save("b.txt", b"x")
    assert fresh.stat().st_mode & 0o777 == 0o700
