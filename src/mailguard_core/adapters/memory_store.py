"""``InMemoryMailStore``: a fake that behaves like an IMAP server, for tests and demos.

It keeps folders in memory with a UIDVALIDITY each, assigns UIDs in arrival order and never
reuses them, gives a recreated folder a new UIDVALIDITY, and passes the same contract suite as
the IMAP adapter (``tests/contract/``). It starts with INBOX and the special-use folders
Drafts, Sent, Trash, Junk and Archive, like the test Dovecot.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

import attrs

from mailguard_core.adapters.local_store import LocalMailStore, StoredMessage
from mailguard_core.adapters.mail_common import validate_flags, validate_folder_name
from mailguard_core.model.values import MessageRef

__all__ = ["DEFAULT_FOLDERS", "InMemoryMailStore"]

DEFAULT_FOLDERS: tuple[tuple[str, str | None], ...] = (
    ("INBOX", None),
    ("Drafts", "\\Drafts"),
    ("Sent", "\\Sent"),
    ("Trash", "\\Trash"),
    ("Junk", "\\Junk"),
    ("Archive", "\\Archive"),
)
_UIDVALIDITY = itertools.count(int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp()))


@attrs.define
class _Folder:
    uidvalidity: int
    special_use: str | None = None
    uidnext: int = 1
    messages: dict[int, StoredMessage] = attrs.Factory(dict)


class _MemoryBackend:
    def __init__(self) -> None:
        self.folders: dict[str, _Folder] = {}

    def folder_names(self) -> list[str]:
        return list(self.folders)

    def special_use(self, name: str) -> str | None:
        return self.folders[name].special_use

    def exists(self, name: str) -> bool:
        return name in self.folders

    def uidvalidity(self, name: str) -> int:
        return self.folders[name].uidvalidity

    def messages(self, name: str) -> dict[int, StoredMessage]:
        return dict(self.folders[name].messages)

    def add(self, name: str, data: bytes, flags: frozenset[str], internal_date: dt.datetime) -> int:
        folder = self.folders[name]
        uid = folder.uidnext
        folder.uidnext += 1
        folder.messages[uid] = StoredMessage(
            uid=uid, data=data, flags=flags, internal_date=internal_date
        )
        return uid

    def set_flags(self, name: str, uid: int, flags: frozenset[str]) -> None:
        self.folders[name].messages[uid].flags = flags

    def remove(self, name: str, uids: Sequence[int]) -> None:
        for uid in uids:
            self.folders[name].messages.pop(uid, None)

    def create(self, name: str, special_use: str | None = None) -> None:
        self.folders[name] = _Folder(uidvalidity=next(_UIDVALIDITY), special_use=special_use)

    def rename(self, old: str, new: str) -> None:
        renamed = {}
        for name, folder in self.folders.items():
            if name == old:
                renamed[new] = folder
            elif name.startswith(old + "/"):
                renamed[new + name[len(old) :]] = folder
            else:
                renamed[name] = folder
        self.folders = renamed

    def delete(self, name: str) -> None:
        del self.folders[name]


class InMemoryMailStore(LocalMailStore):
    """A ``MailStore`` held in memory. Seed it with :meth:`add_folder` and :meth:`add_message`."""

    def __init__(self, account: str = "demo", *, default_folders: bool = True) -> None:
        self._memory = _MemoryBackend()
        super().__init__(account, self._memory)
        if default_folders:
            for name, use in DEFAULT_FOLDERS:
                self._memory.create(name, use)
        elif not self._memory.exists("INBOX"):
            self._memory.create("INBOX")

    def add_folder(self, name: str, special_use: str | None = None) -> None:
        """Create a folder (no error if it exists; then only its special use is updated)."""
        validate_folder_name(name)
        if self._memory.exists(name):
            self._memory.folders[name].special_use = special_use
        else:
            self._memory.create(name, special_use)

    def add_message(
        self,
        folder: str,
        raw: bytes,
        flags: Sequence[str] = (),
        *,
        internal_date: dt.datetime | None = None,
    ) -> MessageRef:
        """Deliver a message (the folder is created if missing); returns its ref."""
        if not self._memory.exists(folder):
            self.add_folder(folder)
        when = internal_date or dt.datetime.now(dt.UTC).replace(microsecond=0)
        uid = self._memory.add(folder, raw, frozenset(validate_flags(flags)), when)
        return self._ref(folder, uid)

    def reset_uidvalidity(self, folder: str) -> int:
        """Simulate a server that renumbered a folder: every old ref of it becomes stale."""
        entry = self._memory.folders[folder]
        entry.uidvalidity = next(_UIDVALIDITY)
        return entry.uidvalidity
