"""The MailStore contract for ImapMailStore against a private Dovecot, in both TLS modes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import pytest

from mailguard_core.adapters.imap import ImapMailStore
from mailguard_core.ports import MailStore
from mailguard_core.ports.secrets import Secret
from tests.contract.mail_store_contract import ACCOUNT, MailStoreContract
from tests.support.dovecot import DovecotServer

pytestmark = pytest.mark.dovecot


def _store(
    server: DovecotServer, user: tuple[str, str], tls: Literal["implicit", "starttls"]
) -> Iterator[ImapMailStore]:
    name, password = user
    store = ImapMailStore(ACCOUNT, server.imap_settings(name, tls=tls), lambda: Secret(password))
    try:
        yield store
    finally:
        store.close()


class TestImapMailStoreImplicitTls(MailStoreContract):
    @pytest.fixture
    def store(self, dovecot: DovecotServer, imap_user: tuple[str, str]) -> Iterator[MailStore]:
        yield from _store(dovecot, imap_user, "implicit")


class TestImapMailStoreStarttls(MailStoreContract):
    @pytest.fixture
    def store(self, dovecot: DovecotServer, imap_user: tuple[str, str]) -> Iterator[MailStore]:
        yield from _store(dovecot, imap_user, "starttls")
