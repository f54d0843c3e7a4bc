"""The MailStore contract for the stores that keep mail locally: in memory and Maildir."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailguard_core.adapters.maildir_store import MaildirMailStore
from mailguard_core.adapters.memory_store import InMemoryMailStore
from mailguard_core.ports import MailStore
from tests.contract.mail_store_contract import ACCOUNT, MailStoreContract


class TestInMemoryMailStore(MailStoreContract):
    @pytest.fixture
    def store(self) -> MailStore:
        return InMemoryMailStore(ACCOUNT)


class TestMaildirMailStore(MailStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> MailStore:
        root = tmp_path / "Maildir"
        store = MaildirMailStore(ACCOUNT, root, create=True)
        for name in ("Drafts", "Sent", "Trash", "Junk", "Archive"):
            store.create_folder(name)
        return store
