"""OutgoingService: drafts, send + Sent copy, threading, and what happens when a step fails."""

from __future__ import annotations

import email.parser
import email.policy
from collections.abc import Sequence
from email.message import EmailMessage

import attrs
import pytest

from mailguard_core.adapters.memory_sender import InMemorySender
from mailguard_core.adapters.memory_store import InMemoryMailStore
from mailguard_core.config import AccountConfig, SendSettings
from mailguard_core.model.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    HeaderInjectionError,
    InputError,
    MessageNotFound,
    RecipientNotAllowed,
    ToolDenied,
)
from mailguard_core.model.values import MessageRef
from mailguard_core.services.outgoing import OutgoingRequest, OutgoingService

ACCOUNT = AccountConfig(
    name="work", address="me@example.com", display_name="Mé Myself", maildir="/unused"
)
PARENT = (
    b"From: Bob <bob@example.org>\r\nTo: me@example.com\r\nSubject: Question\r\n"
    b"Message-ID: <q1@example.org>\r\nReferences: <q0@example.org>\r\n\r\nHi?\r\n"
)


def parse(data: bytes) -> EmailMessage:
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def request(**overrides: object) -> OutgoingRequest:
    fields: dict[str, object] = {
        "to": ["Bob <bob@example.org>"],
        "subject": "Grüße",
        "body": "Hallo ✓\n",
    }
    fields.update(overrides)
    return OutgoingRequest(**fields)  # type: ignore[arg-type]


class FailingAppendStore(InMemoryMailStore):
    """Appends to Sent fail with the given exception (the server dropped, a bug, ...)."""

    def __init__(self, error: Exception) -> None:
        super().__init__("work")
        self.error = error
        self.append_calls = 0

    def append(self, folder: str, data: bytes, *, flags: Sequence[str] = ()) -> MessageRef | None:
        self.append_calls += 1
        if folder == "Sent":
            raise self.error
        return super().append(folder, data, flags=flags)


@pytest.fixture
def store() -> InMemoryMailStore:
    return InMemoryMailStore("work")


@pytest.fixture
def sender() -> InMemorySender:
    return InMemorySender()


def test_a_draft_lands_in_drafts_flagged_for_review_and_is_never_sent(
    store: InMemoryMailStore, sender: InMemorySender
) -> None:
    """create_draft appends with \\Draft and $PendingReview and submits nothing."""
    outcome = OutgoingService(ACCOUNT, store, sender).create_draft(request(bcc=["c@example.org"]))
    assert outcome.ref is not None and outcome.ref.folder == "Drafts"
    assert store.get_flags(outcome.ref) >= {"\\Draft", "$PendingReview"}
    message = parse(store.fetch(outcome.ref).data)
    assert message["Message-ID"] == outcome.message_id
    assert str(message["From"]) == "Mé Myself <me@example.com>"
    assert str(message["Bcc"]) == "c@example.org"
    assert sender.sent == []


def test_drafts_work_for_an_account_that_cannot_send(store: InMemoryMailStore) -> None:
    """No Sender is needed to create a draft."""
    outcome = OutgoingService(ACCOUNT, store, None).create_draft(request())
    assert outcome.ref is not None


def test_drafts_go_to_the_servers_special_use_drafts_folder() -> None:
    """The \\Drafts special-use folder is used whatever its name."""
    store = InMemoryMailStore("work", default_folders=False)
    store.add_folder("Entwürfe", "\\Drafts")
    outcome = OutgoingService(ACCOUNT, store, None).create_draft(request())
    assert outcome.ref is not None and outcome.ref.folder == "Entwürfe"


def test_send_submits_once_then_stores_the_same_bytes_in_sent_as_seen(
    store: InMemoryMailStore, sender: InMemorySender
) -> None:
    """The Sent copy is byte-identical to what was submitted and carries \\Seen."""
    outcome = OutgoingService(ACCOUNT, store, sender).send(
        request(cc=["carol@example.org"], bcc=["dave@example.org"])
    )
    [sent] = sender.sent
    assert sent.envelope_from == "me@example.com"
    assert sent.recipients == ("bob@example.org", "carol@example.org", "dave@example.org")
    assert outcome.accepted == sent.recipients and outcome.refused == ()
    assert outcome.sent_copy_stored and outcome.sent_copy_error is None
    assert outcome.sent_copy_ref is not None and outcome.sent_copy_ref.folder == "Sent"
    stored = store.fetch(outcome.sent_copy_ref)
    assert stored.data == sent.data
    assert "\\Seen" in store.get_flags(outcome.sent_copy_ref)
    message = parse(sent.data)
    assert message["Message-ID"] == outcome.message_id
    assert "Bcc" not in message


def test_a_reply_carries_threading_headers_from_the_referenced_message(
    store: InMemoryMailStore, sender: InMemorySender
) -> None:
    """In-Reply-To and References come from the parent in the store."""
    parent = store.add_message("INBOX", PARENT)
    OutgoingService(ACCOUNT, store, sender).send(request(in_reply_to=parent, subject="Re: Q"))
    message = parse(sender.sent[0].data)
    assert message["In-Reply-To"] == "<q1@example.org>"
    assert message["References"] == "<q0@example.org> <q1@example.org>"


def test_a_reply_to_another_accounts_message_is_refused_before_sending(
    store: InMemoryMailStore, sender: InMemorySender
) -> None:
    """in_reply_to must name this account."""
    other = MessageRef(account="home", folder="INBOX", uidvalidity=1, uid=1)
    with pytest.raises(InputError):
        OutgoingService(ACCOUNT, store, sender).send(request(in_reply_to=other))
    assert sender.sent == []


def test_a_reply_to_a_missing_message_is_refused_before_sending(
    store: InMemoryMailStore, sender: InMemorySender
) -> None:
    """An unknown parent is MessageNotFound and nothing is sent."""
    parent = store.add_message("INBOX", PARENT)
    missing = attrs.evolve(parent, uid=parent.uid + 10)
    with pytest.raises(MessageNotFound):
        OutgoingService(ACCOUNT, store, sender).send(request(in_reply_to=missing))
    assert sender.sent == []


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ConnectionFailed("imap gone"), "connection_failed: could not reach the mail server"),
        (RuntimeError("bug"), "internal_error: RuntimeError"),
    ],
)
def test_a_failed_sent_copy_is_reported_and_the_send_still_counts(
    sender: InMemorySender, error: Exception, expected: str
) -> None:
    """The message was sent exactly once; the outcome says the copy failed and why."""
    store = FailingAppendStore(error)
    outcome = OutgoingService(ACCOUNT, store, sender).send(request())
    assert len(sender.sent) == 1 and store.append_calls == 1
    assert outcome.accepted == ("bob@example.org",)
    assert not outcome.sent_copy_stored and outcome.sent_copy_ref is None
    assert outcome.sent_copy_error == expected


def test_a_failed_submission_stores_no_sent_copy(store: InMemoryMailStore) -> None:
    """When SMTP fails nothing lands in Sent and the error propagates."""
    sender = InMemorySender(fail_with=AuthenticationFailed("bad login"))
    with pytest.raises(AuthenticationFailed):
        OutgoingService(ACCOUNT, store, sender).send(request())
    sent_folder = next(f for f in store.list_folders() if f.name == "Sent")
    assert sent_folder.messages == 0


def test_an_account_without_smtp_cannot_send(store: InMemoryMailStore) -> None:
    """send without a Sender is ToolDenied with a clear public message."""
    with pytest.raises(ToolDenied) as info:
        OutgoingService(ACCOUNT, store, None).send(request())
    assert "SMTP" in info.value.public_message


@pytest.mark.parametrize(
    "bad",
    [
        {"subject": "Hi\r\nBcc: eve@evil.example"},
        {"to": ["Bob\n <bob@example.org>"]},
        {"cc": ["eve@evil.example\r\nX-Injected: 1"]},
    ],
)
def test_header_injection_is_refused_before_anything_is_sent_or_stored(
    store: InMemoryMailStore, sender: InMemorySender, bad: dict[str, object]
) -> None:
    """Neither the SMTP server nor the Drafts folder sees an injected header."""
    service = OutgoingService(ACCOUNT, store, sender)
    with pytest.raises(HeaderInjectionError):
        service.send(request(**bad))
    with pytest.raises(HeaderInjectionError):
        service.create_draft(request(**bad))
    assert sender.sent == []
    assert all(f.messages in (0, None) for f in store.list_folders())


def test_the_accounts_recipient_allowlist_is_enforced(
    store: InMemoryMailStore, sender: InMemorySender
) -> None:
    """Recipients outside send.recipient_allowlist are refused; inside ones pass."""
    account = attrs.evolve(ACCOUNT, send=SendSettings(recipient_allowlist=("example.org",)))
    service = OutgoingService(account, store, sender)
    service.send(request(to=["bob@example.org"]))
    with pytest.raises(RecipientNotAllowed):
        service.send(request(to=["bob@example.org"], bcc=["eve@evil.example"]))
    assert len(sender.sent) == 1


def test_a_single_string_recipient_is_one_recipient() -> None:
    """OutgoingRequest turns a lone string into a one-element tuple, not characters."""
    assert OutgoingRequest(to="bob@example.org", subject="s", body="b").to == (  # type: ignore[arg-type]
        "bob@example.org",
    )
