"""A small program written against mailguard_core's public API only (``__all__``): what a
framework author writes. ``test_consumer.py`` runs it, checks with ``mypy --strict`` that it
type-checks, and checks that it imports nothing but ``mailguard_core``'s top level."""

from __future__ import annotations

from pathlib import Path

from mailguard_core import (
    AccountConfig,
    Config,
    Envelope,
    Gate,
    InMemoryAuditSink,
    Mailbox,
    MailguardError,
    PolicyViolation,
    Posture,
    SafeMessage,
    SanitizeOptions,
    ToolName,
    open_mailbox,
    sanitize_message,
)


def demo_config(maildir: Path, downloads: Path, posture: Posture = Posture.READONLY) -> Config:
    account = AccountConfig(
        name="me",
        address="me@example.org",
        posture=posture,
        maildir=str(maildir),
        download_dir=str(downloads),
    )
    return Config(accounts=(account,))


def subjects(mailbox: Mailbox, limit: int = 5) -> list[str]:
    """The (sanitized, untrusted) subjects of the newest messages."""
    page: Envelope = mailbox.search("INBOX", limit=limit)
    return [str(item["untrusted"]["subject"]) for item in page["items"]]


def try_to_send(mailbox: Mailbox) -> str:
    """The refusal code, or "sent"."""
    try:
        mailbox.send_email(["someone@example.org"], "Hello", "Hi")
    except PolicyViolation as refusal:
        return refusal.code
    return "sent"


def read_newest(config: Config, audit: InMemoryAuditSink) -> tuple[list[str], str, int]:
    with open_mailbox(config, audit=audit) as mailbox:
        assert ToolName.SEND_EMAIL not in mailbox.allowed_tools()
        return subjects(mailbox), try_to_send(mailbox), len(audit.records)


def sanitize_only(raw: bytes) -> list[str]:
    """The sanitizer alone, for a framework that brings its own mail access."""
    message: SafeMessage = sanitize_message(raw, SanitizeOptions(known_domains=("paypal.com",)))
    return [warning.code for warning in message.warnings]


def gate_only(config: Config) -> tuple[bool, str | None, int]:
    """The gate alone, around a framework's own mail call, with an in-memory audit sink."""
    audit = InMemoryAuditSink()
    gate = Gate.from_config(config, audit)
    with gate.guard("search", "me", {"folder": "INBOX"}) as call:
        call.set_result({"count": 0})
    refused: str | None = None
    try:
        with gate.guard("send_email", "me", {"to": ["x@example.org"]}):
            pass
    except MailguardError as error:
        refused = error.code
    return gate.is_allowed("search", "me"), refused, len(audit.records)
