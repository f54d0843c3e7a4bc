"""ImapMailStore branches Dovecot cannot show, over a scripted fake imapclient session.

Gmail (X-GM-EXT-1 labels), servers without MOVE (COPY + UID EXPUNGE) or without UIDPLUS, and
the repair of a COPY/EXPUNGE move cut short. These are not tested against Gmail or such a
server here; the fake models just enough IMAP state (flags, labels, UIDs, COPYUID).
"""

from __future__ import annotations

import datetime as dt
import imaplib
from collections.abc import Sequence
from typing import Any

import attrs
import pytest

from mailguard_core.adapters.imap import ImapMailStore
from mailguard_core.config import ImapSettings
from mailguard_core.model.errors import ConnectionFailed, UnsupportedByServer
from mailguard_core.model.values import MessageRef
from mailguard_core.ports.secrets import Secret

WHEN = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


@attrs.define
class Msg:
    data: bytes
    flags: set[str] = attrs.Factory(set)
    labels: set[str] = attrs.Factory(set)


@attrs.define
class Folder:
    uidvalidity: int
    uidnext: int = 1
    msgs: dict[int, Msg] = attrs.Factory(dict)

    def add(self, msg: Msg) -> int:
        uid = self.uidnext
        self.uidnext += 1
        self.msgs[uid] = msg
        return uid


@attrs.define
class Server:
    caps: tuple[str, ...]
    folders: dict[str, Folder] = attrs.Factory(dict)
    calls: list[str] = attrs.Factory(list)
    fail_on: str | None = None


class _Imap:
    def __init__(self) -> None:
        self.codes: dict[str, list[bytes]] = {}

    def response(self, code: str) -> tuple[str, list[bytes | None]]:
        return code, self.codes.pop(code, [None])  # type: ignore[return-value]


class FakeClient:
    """The slice of imapclient.IMAPClient the store uses."""

    def __init__(self, server: Server) -> None:
        self.s = server
        self._imap = _Imap()
        self.selected: str | None = None
        self.normalise_times = True

    def _call(self, name: str) -> None:
        self.s.calls.append(name)
        if self.s.fail_on == name:
            self.s.fail_on = None
            raise imaplib.IMAP4.abort("connection lost")

    def capabilities(self) -> tuple[bytes, ...]:
        return tuple(c.encode() for c in self.s.caps)

    def login(self, user: str, password: str) -> None:
        self._call("login")

    def shutdown(self) -> None: ...

    def logout(self) -> None: ...

    def select_folder(self, name: str, readonly: bool = False) -> dict[bytes, Any]:
        self._call("select")
        self.selected = name
        return {b"UIDVALIDITY": self.s.folders[name].uidvalidity}

    def list_folders(self) -> list[tuple[tuple[bytes, ...], bytes, str]]:
        return [((b"\\HasNoChildren",), b"/", name) for name in self.s.folders]

    def folder_status(self, name: str, items: Sequence[bytes]) -> dict[bytes, Any]:
        if name == "Broken":
            raise imaplib.IMAP4.error("status failed: [SERVERBUG] Internal error")
        f = self.s.folders[name]
        return {b"UIDVALIDITY": f.uidvalidity, b"UIDNEXT": f.uidnext, b"MESSAGES": len(f.msgs)}

    def _msgs(self) -> dict[int, Msg]:
        assert self.selected is not None
        return self.s.folders[self.selected].msgs

    def fetch(self, uids: Sequence[int], items: Sequence[bytes]) -> dict[int, dict[bytes, Any]]:
        self._call("fetch")
        out = {}
        for uid in uids:
            m = self._msgs().get(uid)
            if m is None:
                continue
            head = m.data.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
            out[uid] = {
                b"FLAGS": tuple(f.encode() for f in m.flags),
                b"X-GM-LABELS": tuple(m.labels),
                b"BODY[HEADER]": head,
                b"RFC822.SIZE": len(m.data),
                b"INTERNALDATE": WHEN,
            }
        return out

    def search(self, criteria: list[str]) -> list[int]:
        assert criteria[0] == "UID"
        low = int(criteria[1].split(":")[0])
        return [u for u in self._msgs() if u >= low]

    def add_flags(self, uids: Sequence[int], flags: Sequence[Any], silent: bool = False) -> None:
        self._call("add_flags")
        for uid in uids:
            self._msgs()[uid].flags.update(f.decode() if isinstance(f, bytes) else f for f in flags)

    def remove_flags(self, uids: Sequence[int], flags: Sequence[Any], silent: bool = False) -> None:
        self._call("remove_flags")
        for uid in uids:
            self._msgs()[uid].flags.difference_update(
                f.decode() if isinstance(f, bytes) else f for f in flags
            )

    def add_gmail_labels(
        self, uids: Sequence[int], labels: Sequence[str], silent: bool = False
    ) -> None:
        self._call("add_gmail_labels")
        for uid in uids:
            self._msgs()[uid].labels.update(labels)

    def remove_gmail_labels(
        self, uids: Sequence[int], labels: Sequence[str], silent: bool = False
    ) -> None:
        self._call("remove_gmail_labels")
        for uid in uids:
            self._msgs()[uid].labels.difference_update(labels)

    def copy(self, uids: Sequence[int], dest: str) -> None:
        self._call("copy")
        target = self.s.folders[dest]
        new = [
            target.add(attrs.evolve(self._msgs()[u], flags=set(self._msgs()[u].flags)))
            for u in uids
        ]
        pairs = f"{target.uidvalidity} {','.join(map(str, uids))} {','.join(map(str, new))}"
        self._imap.codes["COPYUID"] = [pairs.encode()]

    def move(self, uids: Sequence[int], dest: str) -> None:
        self._call("move")
        raise AssertionError("MOVE is not offered by this fake server")

    def uid_expunge(self, uids: Sequence[int]) -> None:
        self._call("uid_expunge")
        for uid in uids:
            if "\\Deleted" in self._msgs()[uid].flags:
                del self._msgs()[uid]

    def expunge(self) -> None:  # pragma: no cover - must never be called
        self.s.calls.append("BARE EXPUNGE")


def _setup(caps: tuple[str, ...], n: int = 3) -> tuple[ImapMailStore, Server, list[MessageRef]]:
    server = Server(caps=caps)
    server.folders = {"INBOX": Folder(uidvalidity=7), "Archive": Folder(uidvalidity=9)}
    for i in range(n):
        server.folders["INBOX"].add(Msg(data=f"Subject: m{i}\r\n\r\nbody {i}\r\n".encode()))
    settings = ImapSettings(host="fake.invalid", username="u")
    store = ImapMailStore(
        "acct", settings, lambda: Secret("pw"), client_factory=lambda: FakeClient(server)
    )
    refs = [
        MessageRef(account="acct", folder="INBOX", uidvalidity=7, uid=u) for u in range(1, n + 1)
    ]
    return store, server, refs


def test_on_gmail_keywords_are_set_and_read_as_labels() -> None:
    """With X-GM-EXT-1, keywords go to X-GM-LABELS and labels() reports them separately."""
    store, server, refs = _setup(("IMAP4REV1", "UIDPLUS", "MOVE", "X-GM-EXT-1"))
    store.set_flags(refs[:1], add=["\\Seen", "Projects"])
    msg = server.folders["INBOX"].msgs[1]
    assert msg.labels == {"Projects"} and msg.flags == {"\\Seen"}
    labels = store.labels(refs[0])
    assert labels.gmail_labels == ("Projects",)
    assert labels.keywords == ()
    store.set_flags(refs[:1], remove=["Projects"])
    assert msg.labels == set()
    assert "add_gmail_labels" in server.calls and "remove_gmail_labels" in server.calls


def test_without_gmail_keywords_are_ordinary_flags() -> None:
    """Without X-GM-EXT-1 a keyword is stored as a flag and labels() has no gmail_labels."""
    store, server, refs = _setup(("IMAP4REV1", "UIDPLUS", "MOVE"))
    store.set_flags(refs[:1], add=["Projects"])
    assert server.folders["INBOX"].msgs[1].flags == {"Projects"}
    assert store.labels(refs[0]).gmail_labels is None
    assert "add_gmail_labels" not in server.calls


def test_without_move_a_move_is_copy_then_uid_expunge_of_exactly_those_uids() -> None:
    """COPY + \\Deleted + UID EXPUNGE; another \\Deleted message in the source survives."""
    store, server, refs = _setup(("IMAP4REV1", "UIDPLUS"))
    server.folders["INBOX"].msgs[3].flags.add("\\Deleted")
    moved = store.move(refs[:2], "Archive")
    assert set(server.folders["INBOX"].msgs) == {3}
    assert len(server.folders["Archive"].msgs) == 2
    assert moved[refs[0]] == MessageRef(account="acct", folder="Archive", uidvalidity=9, uid=1)
    assert server.calls.count("copy") == 1 and "uid_expunge" in server.calls
    assert "BARE EXPUNGE" not in server.calls and "move" not in server.calls


def test_without_move_or_uidplus_a_move_is_refused_before_anything_changes() -> None:
    """No MOVE and no UIDPLUS: UnsupportedByServer (not counted); the source is untouched."""
    store, server, refs = _setup(("IMAP4REV1",))
    with pytest.raises(UnsupportedByServer):
        store.move(refs, "Archive")
    assert len(server.folders["INBOX"].msgs) == 3
    assert "copy" not in server.calls


def test_without_uidplus_expunge_is_refused() -> None:
    """Exact-UID expunge needs UIDPLUS; without it nothing is flagged or expunged."""
    store, server, refs = _setup(("IMAP4REV1", "MOVE"))
    with pytest.raises(UnsupportedByServer):
        store.expunge(refs[:1])
    assert "add_flags" not in server.calls


def test_a_copy_move_cut_before_the_expunge_is_repaired_on_the_next_call() -> None:
    """Connection lost after COPY: the next call removes the copies and clears \\Deleted."""
    store, server, refs = _setup(("IMAP4REV1", "UIDPLUS"))
    server.fail_on = "uid_expunge"
    with pytest.raises(ConnectionFailed):
        store.move(refs[:2], "Archive")
    assert len(server.folders["Archive"].msgs) == 2  # the copies exist for now
    store.get_flags(refs[2])  # any call: reconnects and repairs first
    assert server.folders["Archive"].msgs == {}
    assert set(server.folders["INBOX"].msgs) == {1, 2, 3}
    assert all("\\Deleted" not in m.flags for m in server.folders["INBOX"].msgs.values())


def test_a_copy_move_cut_after_the_expunge_needs_no_repair() -> None:
    """If only the reply was lost, the move is complete and the repair changes nothing."""
    store, server, refs = _setup(("IMAP4REV1", "UIDPLUS"))
    original = FakeClient.uid_expunge

    def expunge_then_fail(self: FakeClient, uids: Sequence[int]) -> None:
        original(self, uids)
        raise imaplib.IMAP4.abort("reply lost")

    FakeClient.uid_expunge = expunge_then_fail  # type: ignore[method-assign]
    try:
        with pytest.raises(ConnectionFailed):
            store.move(refs[:2], "Archive")
    finally:
        FakeClient.uid_expunge = original  # type: ignore[method-assign]
    store.get_flags(refs[2])
    assert set(server.folders["INBOX"].msgs) == {3}
    assert len(server.folders["Archive"].msgs) == 2


def test_a_folder_whose_status_fails_is_listed_without_counts() -> None:
    """One folder the server cannot STATUS does not hide the others."""
    store, server, _refs = _setup(("IMAP4REV1", "UIDPLUS", "MOVE"))
    server.folders["Broken"] = Folder(uidvalidity=11)
    listed = {f.name: f.messages for f in store.list_folders()}
    assert listed == {"INBOX": 3, "Archive": 0, "Broken": None}


def test_without_special_use_flags_conventional_names_are_used() -> None:
    """A server that flags nothing still yields Drafts/Sent/Trash/Junk by their usual names."""
    store, server, _refs = _setup(("IMAP4REV1", "UIDPLUS", "MOVE"))
    for name in ("Drafts", "Sent Items", "Deleted Items", "Spam"):
        server.folders[name] = Folder(uidvalidity=20)
    assert store.special_folders() == {
        "\\Drafts": "Drafts",
        "\\Sent": "Sent Items",
        "\\Trash": "Deleted Items",
        "\\Junk": "Spam",
        "\\Archive": "Archive",
    }
