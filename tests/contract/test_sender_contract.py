"""The ``Sender`` contract, run against the in-memory fake and smtplib over real TLS + AUTH."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest

from mailguard_core.adapters.memory_sender import InMemorySender
from mailguard_core.adapters.outbox_sender import OutboxSender
from mailguard_core.adapters.smtp import SmtpSender
from mailguard_core.model.compose import Mailbox, compose
from mailguard_core.model.errors import AuthenticationFailed, MailguardError, RecipientRefused
from mailguard_core.ports.secrets import Secret
from mailguard_core.ports.sender import Sender
from tests.support.smtpd import SmtpTestServer, smtpd_certificate, start_smtpd

__all__ = ["smtpd_certificate"]  # the session fixture, re-exported for this module


@attrs.frozen
class Received:
    mail_from: str
    recipients: tuple[str, ...]
    data: bytes


@attrs.frozen
class Harness:
    sender: Sender
    #: the same server, but the sender's credentials are wrong
    bad_credentials: Sender
    received: Callable[[], list[Received]]
    refuse: Callable[[str], None]


def built(*recipients: str) -> tuple[bytes, str]:
    message = compose(
        sender=Mailbox(address="alice@example.com", display_name="Alice"),
        to=list(recipients),
        subject="Contract ✓",
        body="Hello\n.\n..leading dots stay\n",
    )
    return message.data, message.message_id


class SenderContract:
    """Behaviour every Sender must show; subclasses provide ``harness``."""

    @pytest.fixture
    def harness(self) -> Harness:
        raise NotImplementedError

    def test_the_message_arrives_byte_for_byte_with_the_envelope_given(
        self, harness: Harness
    ) -> None:
        """MAIL FROM, RCPT TO and DATA are exactly what the caller passed."""
        data, message_id = built("bob@example.org", "carol@example.org")
        result = harness.sender.send(
            envelope_from="alice@example.com",
            recipients=["bob@example.org", "carol@example.org"],
            data=data,
        )
        assert result.message_id == message_id
        assert result.accepted == ("bob@example.org", "carol@example.org")
        assert result.refused == ()
        [received] = harness.received()
        assert received == Received(
            "alice@example.com", ("bob@example.org", "carol@example.org"), data
        )

    def test_a_partly_refused_submission_lists_the_refused_recipients(
        self, harness: Harness
    ) -> None:
        """Recipients refused while others are accepted come back in ``refused``."""
        harness.refuse("carol@example.org")
        data, _ = built("bob@example.org", "carol@example.org")
        result = harness.sender.send(
            envelope_from="alice@example.com",
            recipients=["bob@example.org", "carol@example.org"],
            data=data,
        )
        assert result.accepted == ("bob@example.org",)
        assert result.refused == ("carol@example.org",)
        assert [r.recipients for r in harness.received()] == [("bob@example.org",)]

    def test_all_recipients_refused_raises_recipient_refused_and_delivers_nothing(
        self, harness: Harness
    ) -> None:
        """No accepted recipient means RecipientRefused, and nothing was delivered."""
        harness.refuse("bob@example.org")
        data, _ = built("bob@example.org")
        with pytest.raises(RecipientRefused):
            harness.sender.send(
                envelope_from="alice@example.com", recipients=["bob@example.org"], data=data
            )
        assert harness.received() == []

    def test_wrong_credentials_raise_authentication_failed_and_deliver_nothing(
        self, harness: Harness
    ) -> None:
        """Bad credentials are AuthenticationFailed, counted by the breaker as auth."""
        data, _ = built("bob@example.org")
        with pytest.raises(AuthenticationFailed) as info:
            harness.bad_credentials.send(
                envelope_from="alice@example.com", recipients=["bob@example.org"], data=data
            )
        assert info.value.breaker == "auth"
        assert "wrong-password" not in str(info.value)
        assert harness.received() == []

    def test_only_mailguard_errors_escape(self, harness: Harness) -> None:
        """Every failure above is a MailguardError (checked on an empty recipient list)."""
        data, _ = built("bob@example.org")
        with pytest.raises(MailguardError):
            harness.sender.send(envelope_from="alice@example.com", recipients=[], data=data)


class TestInMemorySender(SenderContract):
    @pytest.fixture
    def harness(self) -> Harness:
        sender = InMemorySender()

        def received() -> list[Received]:
            return [Received(m.envelope_from, m.recipients, m.data) for m in sender.sent]

        return Harness(
            sender=sender,
            bad_credentials=InMemorySender(fail_with=AuthenticationFailed("bad login")),
            received=received,
            refuse=sender.refuse.add,
        )


def smtp_harness(server: SmtpTestServer) -> Harness:
    def received() -> list[Received]:
        return [Received(m.mail_from, m.rcpt_tos, m.data) for m in server.messages]

    return Harness(
        sender=SmtpSender(server.smtp_settings("alice"), lambda: Secret("alicepass")),
        bad_credentials=SmtpSender(server.smtp_settings("alice"), lambda: Secret("wrong-password")),
        received=received,
        refuse=server.refuse_recipients.add,
    )


class TestSmtpSender(SenderContract):
    """smtplib against aiosmtpd, once over STARTTLS and once over implicit TLS."""

    @pytest.fixture(params=["starttls", "implicit"])
    def harness(
        self,
        request: pytest.FixtureRequest,
        tmp_path: Path,
        smtpd_certificate: tuple[Path, Path],
    ) -> Iterator[Harness]:
        server = start_smtpd(tmp_path, mode=request.param, certificate=smtpd_certificate)
        try:
            yield smtp_harness(server)
        finally:
            server.stop()


class TestOutboxSender(SenderContract):
    """The demo's sender: delivers into a local folder, never the network."""

    @pytest.fixture
    def harness(self, tmp_path: Path) -> Harness:
        sender = OutboxSender(tmp_path / "outbox")

        def received() -> list[Received]:
            return [Received(m.envelope_from, m.recipients, m.data) for m in sender.delivered()]

        return Harness(
            sender=sender,
            bad_credentials=OutboxSender(
                tmp_path / "other", fail_with=AuthenticationFailed("bad login")
            ),
            received=received,
            refuse=sender.refuse.add,
        )
