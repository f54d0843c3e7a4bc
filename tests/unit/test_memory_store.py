"""InMemoryMailStore specifics: seeding helpers and server-like UID behaviour."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailguard_core.adapters.memory_store import InMemoryMailStore
from mailguard_core.model.errors import InvalidCursorError, MailguardError, StaleReference
from mailguard_core.model.values import SearchCriteria

RAW = b"Subject: seeded\r\n\r\nbody\r\n"


def test_add_message_creates_the_folder_and_returns_a_working_ref() -> None:
    """Seeding into a new folder creates it; the ref fetches the same bytes and flags."""
    store = InMemoryMailStore("demo")
    ref = store.add_message("Projects", RAW, flags=["\\Seen"])
    assert "Projects" in {f.name for f in store.list_folders()}
    assert store.fetch(ref).data == RAW
    assert store.get_flags(ref) == {"\\Seen"}


def test_uids_are_never_reused_after_an_expunge() -> None:
    """The next UID after expunging the newest message is still a new one."""
    store = InMemoryMailStore()
    a = store.add_message("INBOX", RAW)
    b = store.add_message("INBOX", RAW)
    store.expunge([b])
    c = store.add_message("INBOX", RAW)
    assert c.uid == b.uid + 1 > a.uid


def test_reset_uidvalidity_makes_old_refs_and_cursors_stale() -> None:
    """After a renumbering, refs raise StaleReference and cursors InvalidCursorError."""
    store = InMemoryMailStore()
    refs = [store.add_message("INBOX", RAW) for _ in range(3)]
    page = store.search("INBOX", SearchCriteria(), limit=1)
    store.reset_uidvalidity("INBOX")
    with pytest.raises(StaleReference):
        store.fetch(refs[0])
    with pytest.raises(InvalidCursorError):
        store.search("INBOX", SearchCriteria(), limit=1, cursor=page.next_cursor)


def test_internal_dates_given_at_seeding_drive_date_searches() -> None:
    """since/before compare the internal date the message was seeded with."""
    store = InMemoryMailStore()
    old = store.add_message("INBOX", RAW, internal_date=dt.datetime(2020, 5, 1, tzinfo=dt.UTC))
    new = store.add_message("INBOX", RAW, internal_date=dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
    since = store.search("INBOX", SearchCriteria(since=dt.date(2025, 1, 1)), limit=5)
    before = store.search("INBOX", SearchCriteria(before=dt.date(2025, 1, 1)), limit=5)
    assert list(since.refs) == [new] and list(before.refs) == [old]


def test_add_folder_sets_the_special_use_of_an_existing_folder() -> None:
    """add_folder on an existing name only updates its special use."""
    store = InMemoryMailStore(default_folders=False)
    store.add_folder("Papierkorb", "\\Trash")
    assert store.special_folders() == {"\\Trash": "Papierkorb"}
    store.add_folder("Papierkorb", None)
    assert store.special_folders() == {}


_MIME_BITS = st.sampled_from(
    [
        b"Content-Type: multipart/mixed; boundary=b\r\n",
        b"Content-Type: text/plain; charset=x-unknown\r\n",
        b"Content-Transfer-Encoding: base64\r\n",
        b"Content-Disposition: attachment; filename*=utf-8''%FF%FE.pdf\r\n",
        b"Subject: =?utf-8?q?=FF?=\r\n",
        b"\r\n--b\r\nContent-Type: application/pdf\r\n\r\nJVBERi0=\r\n--b--\r\n",
        b"\r\n",
        b"\x00\xff garbage",
    ]
)


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(_MIME_BITS, max_size=8), tail=st.binary(max_size=200))
def test_arbitrary_message_bytes_never_raise_anything_but_mailguard_errors(
    parts: list[bytes], tail: bytes
) -> None:
    """Whatever the bytes, reading them back raises nothing or a MailguardError."""
    store = InMemoryMailStore()
    ref = store.add_message("INBOX", b"".join(parts) + tail or b"x")
    try:
        store.summaries([ref])
        store.search("INBOX", SearchCriteria(text="pdf", has_attachment=True), limit=5)
        for info in store.attachments(ref):
            store.fetch_part(ref, info.part_id)
        store.fetch_part(ref, "1")
    except MailguardError:
        pass
