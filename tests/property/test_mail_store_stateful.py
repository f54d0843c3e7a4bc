"""Random operation sequences through three MailStores at once; they must always agree.

The in-memory fake, the Maildir store and the IMAP adapter against a real Dovecot each get the
same appends, flag changes, moves and expunges; after every step, searches, flags, bytes and
folder counts must be the same in all three (UIDs included: each assigns them like a server).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from mailguard_core.adapters.imap import ImapMailStore
from mailguard_core.adapters.maildir_store import MaildirMailStore
from mailguard_core.adapters.memory_store import InMemoryMailStore
from mailguard_core.model.values import MessageRef, SearchCriteria
from mailguard_core.ports import MailStore
from mailguard_core.ports.secrets import Secret
from tests.support.dovecot import DovecotServer

pytestmark = pytest.mark.dovecot

FOLDERS = ("INBOX", "Archive", "Projekte/Ä")
SUBJECTS = ("invoice", "lunch", "Grüße", "report")
FLAGS = ("\\Seen", "\\Flagged", "$Todo")


def _raw(subject: str, n: int) -> bytes:
    return (
        f"From: sender{n % 3}@example.org\r\nSubject: {subject} {n}\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\nbody {n}\r\n"
    ).encode()


def _key(ref: MessageRef) -> tuple[str, int]:
    return ref.folder, ref.uid


def test_the_fake_maildir_and_imap_stores_agree(dovecot: DovecotServer) -> None:
    """Any sequence of operations leaves the three stores in the same observable state."""

    class Agreement(RuleBasedStateMachine):
        messages = Bundle("messages")

        def __init__(self) -> None:
            super().__init__()
            name, password = dovecot.add_user()
            self.tmp = Path(tempfile.mkdtemp(prefix="mg-stateful-"))
            self.maildir = MaildirMailStore("acct", self.tmp / "Maildir", create=True)
            self.imap = ImapMailStore("acct", dovecot.imap_settings(name), lambda: Secret(password))
            self.memory = InMemoryMailStore("acct")
            self.stores: list[MailStore] = [self.memory, self.maildir, self.imap]
            for folder in ("Drafts", "Sent", "Trash", "Junk", "Archive"):
                self.maildir.create_folder(folder)
            for store in self.stores:
                store.create_folder("Projekte/Ä")
            self.counter = 0
            self.live: set[tuple[str, int]] = set()

        def teardown(self) -> None:
            self.imap.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

        def _same(self, results: list[object]) -> object:
            assert all(r == results[0] for r in results[1:]), results
            return results[0]

        @rule(target=messages, folder=st.sampled_from(FOLDERS), subject=st.sampled_from(SUBJECTS),
              flags=st.lists(st.sampled_from(FLAGS), unique=True, max_size=2))  # fmt: skip
        def append(self, folder: str, subject: str, flags: list[str]) -> tuple[str, int]:
            self.counter += 1
            refs = [s.append(folder, _raw(subject, self.counter), flags=flags) for s in self.stores]
            assert all(r is not None for r in refs)
            key = self._same([_key(r) for r in refs if r is not None])
            assert isinstance(key, tuple)
            self.live.add(key)
            return key

        def _refs(self, store: MailStore, key: tuple[str, int]) -> MessageRef:
            [info] = [f for f in store.list_folders() if f.name == key[0]]
            assert info.uidvalidity is not None
            return MessageRef(
                account="acct", folder=key[0], uidvalidity=info.uidvalidity, uid=key[1]
            )

        @precondition(lambda self: bool(self.live))
        @rule(key=messages, add=st.lists(st.sampled_from(FLAGS), unique=True, max_size=2),
              remove=st.lists(st.sampled_from(FLAGS), unique=True, max_size=1))  # fmt: skip
        def set_flags(self, key: tuple[str, int], add: list[str], remove: list[str]) -> None:
            if key not in self.live:
                return
            for store in self.stores:
                store.set_flags([self._refs(store, key)], add=add, remove=remove)
            self._same([s.get_flags(self._refs(s, key)) for s in self.stores])

        @precondition(lambda self: bool(self.live))
        @rule(key=messages, dest=st.sampled_from(FOLDERS))
        def move(self, key: tuple[str, int], dest: str) -> None:
            if key not in self.live or key[0] == dest:
                return
            results = [s.move([self._refs(s, key)], dest) for s in self.stores]
            news = [next(iter(r.values())) for r in results]
            assert all(n is not None for n in news)
            new_key = self._same([_key(n) for n in news if n is not None])
            assert isinstance(new_key, tuple)
            self.live.discard(key)
            self.live.add(new_key)

        @precondition(lambda self: bool(self.live))
        @rule(key=messages)
        def expunge(self, key: tuple[str, int]) -> None:
            if key not in self.live:
                return
            assert self._same([s.expunge([self._refs(s, key)]) for s in self.stores]) == 1
            self.live.discard(key)

        @rule(folder=st.sampled_from(FOLDERS), subject=st.sampled_from((None, *SUBJECTS)),
              seen=st.sampled_from((None, True, False)), flagged=st.sampled_from((None, True)),
              limit=st.integers(1, 4))  # fmt: skip
        def search(
            self,
            folder: str,
            subject: str | None,
            seen: bool | None,
            flagged: bool | None,
            limit: int,
        ) -> None:
            criteria = SearchCriteria(subject=subject, seen=seen, flagged=flagged)
            pages = [s.search(folder, criteria, limit=limit) for s in self.stores]
            self._same([([_key(r) for r in p.refs], p.total, p.next_cursor is None) for p in pages])
            follow = [
                s.search(folder, criteria, limit=limit, cursor=p.next_cursor)
                for s, p in zip(self.stores, pages, strict=True)
                if p.next_cursor is not None
            ]
            if follow:
                assert len(follow) == len(self.stores)
                self._same([[_key(r) for r in p.refs] for p in follow])

        @invariant()
        def folders_and_contents_agree(self) -> None:
            counts = []
            for store in self.stores:
                listed = {f.name: (f.messages, f.unseen) for f in store.list_folders()}
                counts.append({name: listed[name] for name in FOLDERS})
            self._same(counts)
            for key in sorted(self.live)[:3]:
                self._same([s.fetch(self._refs(s, key)).data for s in self.stores])

    run_state_machine_as_test(
        Agreement,
        settings=settings(
            max_examples=15,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
