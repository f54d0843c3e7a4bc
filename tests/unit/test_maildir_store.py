"""MaildirMailStore specifics beyond the shared contract: UID persistence, layout, flags."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mailguard_core.adapters.maildir_store import MaildirMailStore
from mailguard_core.model.errors import BackendError, InvalidFolderNameError
from mailguard_core.model.values import SearchCriteria

RAW = b"From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n"


def _maildir(root: Path, *folders: str) -> Path:
    for d in [root, *(root / f for f in folders)]:
        for sub in ("cur", "new", "tmp"):
            (d / sub).mkdir(parents=True, exist_ok=True)
    return root


def test_uids_and_uidvalidity_survive_a_new_store_instance(tmp_path: Path) -> None:
    """A second store on the same directory sees the same refs."""
    first = MaildirMailStore("acct", tmp_path / "m", create=True)
    refs = [first.append("INBOX", RAW + bytes([65 + i])) for i in range(3)]
    second = MaildirMailStore("acct", tmp_path / "m")
    page = second.search("INBOX", SearchCriteria(), limit=10)
    assert list(page.refs) == sorted((r for r in refs if r), key=lambda r: -r.uid)
    assert second.fetch(page.refs[0]).data == RAW + b"C"


def test_files_delivered_by_another_program_get_the_next_uids_in_arrival_order(
    tmp_path: Path,
) -> None:
    """New files in new/ are numbered after the known ones, older mtime first."""
    root = _maildir(tmp_path / "m")
    store = MaildirMailStore("acct", root)
    known = store.append("INBOX", RAW)
    assert known is not None
    for i, name in enumerate(["zzz.delivery", "aaa.delivery"]):
        path = root / "new" / name
        path.write_bytes(RAW + str(i).encode())
        os.utime(path, (1_700_000_000 + i, 1_700_000_000 + i))
    page = store.search("INBOX", SearchCriteria(), limit=10)
    assert [r.uid for r in page.refs] == [known.uid + 2, known.uid + 1, known.uid]
    assert store.fetch(page.refs[1]).data == RAW + b"0"  # zzz: the older mtime came first


def test_a_dovecot_style_tree_lists_decoded_folders_and_info_flags(tmp_path: Path) -> None:
    """'.Entw&APw-rfe.Alt' is folder 'Entwürfe/Alt'; ':2,FS' means \\Flagged and \\Seen."""
    root = _maildir(tmp_path / "m", ".Entw&APw-rfe.Alt", ".Sent")
    (root / ".Entw&APw-rfe.Alt" / "cur" / "1.M1.host:2,FS").write_bytes(RAW)
    store = MaildirMailStore("acct", root)
    names = {f.name: f.special_use for f in store.list_folders()}
    assert names == {"INBOX": None, "Entwürfe/Alt": None, "Sent": "\\Sent"}
    [ref] = store.search("Entwürfe/Alt", SearchCriteria(), limit=5).refs
    assert store.get_flags(ref) == {"\\Flagged", "\\Seen"}


def test_changing_flags_renames_the_file_and_keeps_its_bytes(tmp_path: Path) -> None:
    """Flags live in the file name; the message file itself is not rewritten."""
    store = MaildirMailStore("acct", tmp_path / "m", create=True)
    ref = store.append("INBOX", RAW)
    assert ref is not None
    [before] = list((tmp_path / "m" / "cur").iterdir())
    inode = before.stat().st_ino
    store.set_flags([ref], add=["\\Seen", "\\Answered", "$Later"])
    [after] = list((tmp_path / "m" / "cur").iterdir())
    assert after.name.endswith(":2,RS")
    assert after.stat().st_ino == inode and after.read_bytes() == RAW
    assert store.labels(ref).keywords == ("$Later",)


def test_an_unwritable_uid_map_falls_back_to_memory(tmp_path: Path) -> None:
    """If the UID map cannot be saved, the store still works for its lifetime."""
    root = _maildir(tmp_path / "m")
    (root / "cur" / "1.M1.host:2,").write_bytes(RAW)
    (root / "mailguard-uidlist.json").mkdir()  # neither readable nor replaceable as a file
    store = MaildirMailStore("acct", root)
    [ref] = store.search("INBOX", SearchCriteria(), limit=5).refs
    assert store.fetch(ref).data == RAW


def test_folder_names_with_a_dot_are_refused(tmp_path: Path) -> None:
    """'.' is Maildir++'s separator on disk, so such names cannot be stored."""
    store = MaildirMailStore("acct", tmp_path / "m", create=True)
    with pytest.raises(InvalidFolderNameError):
        store.create_folder("v1.2")


def test_a_path_that_is_not_a_maildir_is_refused_unless_create_is_set(tmp_path: Path) -> None:
    """Without create=True a missing Maildir is a BackendError naming no internals publicly."""
    with pytest.raises(BackendError) as info:
        MaildirMailStore("acct", tmp_path / "missing")
    assert str(tmp_path) not in info.value.public_message
    MaildirMailStore("acct", tmp_path / "missing", create=True)
    assert (tmp_path / "missing" / "cur").is_dir()


def test_file_system_errors_surface_as_backend_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OSError underneath (here: rename refused) becomes BackendError, nothing else."""
    store = MaildirMailStore("acct", tmp_path / "m", create=True)
    ref = store.append("INBOX", RAW)
    assert ref is not None

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "rename", refuse)
    with pytest.raises(BackendError) as info:
        store.set_flags([ref], add=["\\Seen"])
    assert info.value.public_message == "the local mailbox could not be read or written"
