"""InMemoryMailStore specifics: seeding helpers and server-like UID behaviour."""

from __future__ import annotations

import datetime as dt

import pytest

from mailguard_core.adapters.memory_store import InMemoryMailStore
from mailguard_core.domain import SearchCriteria
from mailguard_core.errors import InvalidCursorError, StaleReference

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
