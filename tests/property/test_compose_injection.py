"""Header injection and round-trip properties of message building, up to a real SMTP server."""

from __future__ import annotations

import email.header
import email.parser
import email.policy
import email.utils
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mailguard_core.adapters.memory_sender import InMemorySender
from mailguard_core.adapters.memory_store import InMemoryMailStore
from mailguard_core.adapters.smtp import SmtpSender
from mailguard_core.config import AccountConfig
from mailguard_core.model.compose import Mailbox, compose, parse_mailbox
from mailguard_core.model.errors import HeaderInjectionError, MailguardError
from mailguard_core.ports.secrets import Secret
from mailguard_core.services.outgoing import OutgoingRequest, OutgoingService
from tests.support.smtpd import SmtpTestServer, make_certificate, start_smtpd

#: what an attacker may smuggle into a header value
BREAKERS = st.sampled_from(
    ["\r", "\n", "\r\n", "\x00", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\u2028", "\u2029"]
)
EVIL_HEADER = "Bcc: eve@evil.example"
ME = Mailbox(address="me@example.com", display_name="Me")
ACCOUNT = AccountConfig(name="work", address="me@example.com", maildir="/unused")

#: printable text with no control or line-separator characters
SAFE_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\x85"
    ),
    max_size=60,
)
NAME_TEXT = SAFE_TEXT.map(lambda s: s.replace("<", "").replace(">", "").replace('"', "")).map(
    lambda s: s.replace("\\", "").strip()
)


@st.composite
def injected(draw: st.DrawFn) -> str:
    """Safe text with at least one breaker and a would-be header after it."""
    before, after = draw(SAFE_TEXT), draw(SAFE_TEXT)
    return before + draw(BREAKERS) + draw(st.sampled_from([EVIL_HEADER, after, ""]))


def display_name_of(data: bytes) -> str:
    """The To display name, decoded per RFC 2047 (whitespace between encoded words dropped).

    ``email.policy.default`` keeps a space between adjacent encoded words in a phrase, which
    RFC 2047 section 6.2 says to drop, so the raw header is decoded with ``email.header``.
    """
    raw = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(data)["To"]
    name, _ = email.utils.parseaddr(str(raw))
    return str(email.header.make_header(email.header.decode_header(name)))


def parse(data: bytes) -> EmailMessage:
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


@given(
    field=st.sampled_from(["subject", "name", "local", "domain", "cc_name"]),
    value=injected(),
)
def test_any_control_character_in_a_header_field_is_refused(field: str, value: str) -> None:
    """Subject, display names and both halves of an address refuse every breaker."""
    subject, to, cc = "ok", "bob@example.org", "carol@example.org"
    if field == "subject":
        subject = value
    elif field == "name":
        to = f"{value} <bob@example.org>"
    elif field == "local":
        to = f"{value}@example.org"
    elif field == "domain":
        to = f"bob@{value}.example.org"
    else:
        cc = f"{value} <carol@example.org>"
    with pytest.raises(HeaderInjectionError):
        compose(sender=ME, to=[to], cc=[cc], subject=subject, body="b")


@given(name=st.text(max_size=40), local=st.text(max_size=20), subject=st.text(max_size=80))
def test_arbitrary_input_is_either_refused_or_yields_exactly_the_expected_headers(
    name: str, local: str, subject: str
) -> None:
    """Whatever the text, no header beyond the ones mailguard writes can appear."""
    try:
        built = compose(
            sender=ME, to=[f'"{name}" <{local or "x"}@example.org>'], subject=subject, body="b"
        )
    except MailguardError:
        return
    message = parse(built.data)
    assert [k.lower() for k in message] == [
        "from", "to", "subject", "date", "message-id",
        "content-type", "content-transfer-encoding", "mime-version",
    ]  # fmt: skip
    assert len(message["To"].addresses) == 1


@given(name=NAME_TEXT, subject=SAFE_TEXT, body=st.text(max_size=300))
@example(name="0 \xa00", subject="0 \xa00", body="")  # mixed plain/encoded words
@example(name="x  y", subject="a  b", body="")  # runs of spaces
@example(name="=?utf-8?q?x?=", subject="=?utf-8?q?x?=", body="")  # look like encoded words
@example(name="ü" * 70, subject="ü" * 300, body="")  # several encoded words
def test_safe_names_subjects_and_bodies_round_trip(name: str, subject: str, body: str) -> None:
    """Non-ASCII names, subjects and bodies decode back to what was given."""
    body = body.replace("\x00", "")
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:
        return
    mailbox = parse_mailbox(f'"{name}" <bob@example.org>' if name else "bob@example.org")
    built = compose(sender=ME, to=[f'"{name}" <bob@example.org>'], subject=subject, body=body)
    assert built.data.isascii()
    message = parse(built.data)
    assert display_name_of(built.data) == mailbox.display_name
    assert message["Subject"] == subject.strip()
    expected = body.replace("\r\n", "\n").replace("\r", "\n")
    content = message.get_content()
    assert content.replace("\r\n", "\n") == expected + ("" if expected.endswith("\n") else "\n")


@pytest.fixture(scope="module")
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpTestServer]:
    directory = tmp_path_factory.mktemp("inject-smtpd")
    server = start_smtpd(directory, certificate=make_certificate(directory))
    try:
        yield server
    finally:
        server.stop()


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["subject", "to", "cc", "bcc"]), value=injected())
def test_nothing_injected_ever_reaches_the_smtp_server(
    smtp_server: SmtpTestServer, field: str, value: str
) -> None:
    """OutgoingService over a real SMTP server: injected requests never produce a DATA."""
    sender = SmtpSender(smtp_server.smtp_settings(), lambda: Secret("alicepass"))
    service = OutgoingService(ACCOUNT, InMemoryMailStore("work"), sender)
    fields: dict[str, object] = {"to": ["bob@example.org"], "subject": "ok", "body": "b"}
    if field == "subject":
        fields["subject"] = value
    else:
        fields[field] = [f"{value} <x@example.org>"]
    with pytest.raises(HeaderInjectionError):
        service.send(OutgoingRequest(**fields))  # type: ignore[arg-type]
    assert smtp_server.messages == []


def test_the_server_receives_a_clean_message_when_input_is_clean(
    smtp_server: SmtpTestServer,
) -> None:
    """Control for the property above: the same path does deliver clean input."""
    sender = SmtpSender(smtp_server.smtp_settings(), lambda: Secret("alicepass"))
    service = OutgoingService(ACCOUNT, InMemoryMailStore("work"), sender)
    service.send(OutgoingRequest(to=("Zoë <bob@example.org>",), subject="Grüße ✓", body="b"))
    try:
        [captured] = smtp_server.messages
        assert captured.parsed["Subject"] == "Grüße ✓"
    finally:
        smtp_server.messages.clear()


@given(value=injected())
def test_injected_drafts_are_never_stored(value: str) -> None:
    """The Drafts path refuses the same inputs before APPEND."""
    store = InMemoryMailStore("work")
    service = OutgoingService(ACCOUNT, store, InMemorySender())
    with pytest.raises(HeaderInjectionError):
        service.create_draft(OutgoingRequest(to=("bob@example.org",), subject=value, body="b"))
    assert all(f.messages in (0, None) for f in store.list_folders())
