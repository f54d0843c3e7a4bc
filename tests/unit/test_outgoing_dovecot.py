"""The whole outgoing path on real servers: SMTP (aiosmtpd, TLS + AUTH) and IMAP (Dovecot)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping

import attrs
import pytest

from mailguard_core.adapters.imap import ImapMailStore
from mailguard_core.adapters.smtp import SmtpSender
from mailguard_core.config import AccountConfig
from mailguard_core.model.errors import AuthenticationFailed
from mailguard_core.model.values import SearchCriteria
from mailguard_core.ports.secrets import Secret
from mailguard_core.services.outgoing import OutgoingRequest, OutgoingService
from tests.support.dovecot import DovecotServer, dovecot, imap_user
from tests.support.smtpd import SmtpTestServer, smtpd_certificate, smtpd_starttls
from tests.support.tcp_proxy import TcpProxy

__all__ = ["dovecot", "imap_user", "smtpd_certificate", "smtpd_starttls"]  # pytest fixtures

pytestmark = pytest.mark.dovecot

PARENT = (
    b"From: Bob <bob@example.org>\r\nTo: me@example.com\r\nSubject: Question\r\n"
    b"Message-ID: <q1@example.org>\r\nDate: Mon, 02 Feb 2026 10:00:00 +0000\r\n\r\nHi?\r\n"
)


@pytest.fixture
def account() -> AccountConfig:
    return AccountConfig(
        name="work", address="me@example.com", display_name="Mé", maildir="/unused"
    )


@pytest.fixture
def store(dovecot: DovecotServer, imap_user: tuple[str, str]) -> Iterator[ImapMailStore]:
    user, password = imap_user
    store = ImapMailStore("work", dovecot.imap_settings(user), lambda: Secret(password))
    try:
        yield store
    finally:
        store.close()


def fresh_store(dovecot: DovecotServer, imap_user: tuple[str, str]) -> ImapMailStore:
    """A second, independent connection to check what the server really holds."""
    user, password = imap_user
    return ImapMailStore("work", dovecot.imap_settings(user), lambda: Secret(password))


def test_a_sent_message_reaches_smtp_and_its_copy_appears_in_dovecots_sent_folder(
    dovecot: DovecotServer,
    imap_user: tuple[str, str],
    store: ImapMailStore,
    account: AccountConfig,
    smtpd_starttls: SmtpTestServer,
) -> None:
    """The Sent copy is byte-identical to the submitted message and marked \\Seen."""
    sender = SmtpSender(smtpd_starttls.smtp_settings(), lambda: Secret("alicepass"))
    dovecot.deliver(imap_user[0], "INBOX", PARENT)
    [parent] = store.search("INBOX", SearchCriteria(), limit=10).refs
    outcome = OutgoingService(account, store, sender).send(
        OutgoingRequest(
            to=("Bøb <bob@example.org>",), subject="Re: Grüße ✓", body="Antwört ✓\n",
            in_reply_to=parent,
        )
    )  # fmt: skip
    [captured] = smtpd_starttls.messages
    assert captured.login == "alice" and captured.rcpt_tos == ("bob@example.org",)
    message = captured.parsed
    assert message["Subject"] == "Re: Grüße ✓"
    assert message["In-Reply-To"] == "<q1@example.org>"
    assert message.get_content().replace("\r\n", "\n") == "Antwört ✓\n"
    assert outcome.sent_copy_stored and outcome.sent_copy_error is None
    assert outcome.sent_copy_ref is not None and outcome.sent_copy_ref.folder == "Sent"
    check = fresh_store(dovecot, imap_user)
    try:
        stored = check.fetch(outcome.sent_copy_ref)
        assert stored.data == captured.data
        assert "\\Seen" in check.get_flags(outcome.sent_copy_ref)
    finally:
        check.close()


def test_a_draft_lands_in_dovecots_drafts_for_review_and_nothing_is_sent(
    dovecot: DovecotServer,
    imap_user: tuple[str, str],
    store: ImapMailStore,
    account: AccountConfig,
    smtpd_starttls: SmtpTestServer,
) -> None:
    """Drafts carry \\Draft and $PendingReview on the real server; SMTP sees nothing."""
    sender = SmtpSender(smtpd_starttls.smtp_settings(), lambda: Secret("alicepass"))
    outcome = OutgoingService(account, store, sender).create_draft(
        OutgoingRequest(to=("bob@example.org",), subject="Draft ✓", body="later")
    )
    assert outcome.ref is not None and outcome.ref.folder == "Drafts"
    check = fresh_store(dovecot, imap_user)
    try:
        assert check.get_flags(outcome.ref) >= {"\\Draft", "$PendingReview"}
    finally:
        check.close()
    assert smtpd_starttls.messages == []


class FoldersOnce(ImapMailStore):
    """Answers special_folders from its first LIST, so the next command on the wire is APPEND."""

    _folders: Mapping[str, str] | None = None

    def special_folders(self) -> Mapping[str, str]:
        if self._folders is None:
            self._folders = super().special_folders()
        return self._folders


def test_an_append_that_fails_on_the_wire_is_reported_and_the_send_still_counts(
    dovecot: DovecotServer,
    imap_user: tuple[str, str],
    account: AccountConfig,
    smtpd_starttls: SmtpTestServer,
) -> None:
    """The IMAP connection goes silent at APPEND: one SMTP delivery, a reported copy error."""
    user, password = imap_user
    sender = SmtpSender(smtpd_starttls.smtp_settings(), lambda: Secret("alicepass"))
    with TcpProxy(dovecot.host, dovecot.imaps_port) as proxy:
        settings = attrs.evolve(
            dovecot.imap_settings(user, connect_timeout=1.0, command_timeout=1.0),
            port=proxy.port,
        )
        stalled = threading.Event()

        def stall_now(_chunk: bytes) -> None:
            # TLS hides the command from the proxy; the next client bytes are the APPEND
            if not stalled.is_set():
                stalled.set()
                proxy.stall()

        store = FoldersOnce("work", settings, lambda: Secret(password))
        try:
            assert store.special_folders()["\\Sent"] == "Sent"  # connects, logs in, LISTs
            proxy.on_client_data = stall_now
            outcome = OutgoingService(account, store, sender).send(
                OutgoingRequest(to=("bob@example.org",), subject="s", body="b")
            )
        finally:
            proxy.on_client_data = None
            store.close()
    assert stalled.is_set()
    assert len(smtpd_starttls.messages) == 1
    assert outcome.accepted == ("bob@example.org",)
    assert not outcome.sent_copy_stored and outcome.sent_copy_ref is None
    assert outcome.sent_copy_error is not None
    assert outcome.sent_copy_error.split(":")[0] in {"timeout", "connection_failed"}


def test_a_sent_copy_refused_by_imap_login_is_reported_and_the_send_still_counts(
    dovecot: DovecotServer,
    imap_user: tuple[str, str],
    account: AccountConfig,
    smtpd_starttls: SmtpTestServer,
) -> None:
    """Wrong IMAP credentials at copy time: the message is sent once, the copy error is typed."""
    sender = SmtpSender(smtpd_starttls.smtp_settings(), lambda: Secret("alicepass"))
    store = ImapMailStore(
        "work", dovecot.imap_settings(imap_user[0]), lambda: Secret("wrong-password")
    )
    try:
        outcome = OutgoingService(account, store, sender).send(
            OutgoingRequest(to=("bob@example.org",), subject="s", body="b")
        )
    finally:
        store.close()
    assert len(smtpd_starttls.messages) == 1
    assert outcome.sent_copy_error == (
        f"{AuthenticationFailed.code}: {AuthenticationFailed.public}"
    )
    assert "wrong-password" not in outcome.sent_copy_error
