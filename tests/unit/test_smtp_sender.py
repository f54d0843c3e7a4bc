"""SmtpSender failure modes against real sockets: TLS, timeouts, refused connections."""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from mailguard_core.adapters.smtp import EHLO_NAME, SmtpSender, make_tls_context
from mailguard_core.config import SmtpSettings
from mailguard_core.model.compose import Mailbox, compose
from mailguard_core.model.errors import (
    ConnectionFailed,
    HeaderInjectionError,
    MailguardError,
    OperationTimeout,
    SecretUnavailable,
    TLSError,
)
from mailguard_core.ports.secrets import Secret
from tests.support.smtpd import SmtpTestServer, smtpd_certificate, start_smtpd

__all__ = ["smtpd_certificate"]

DATA = compose(
    sender=Mailbox(address="alice@example.com"), to=["bob@example.org"], subject="s", body="b"
).data


def send(sender: SmtpSender) -> None:
    sender.send(envelope_from="alice@example.com", recipients=["bob@example.org"], data=DATA)


@pytest.fixture(params=["starttls", "implicit"])
def server(
    request: pytest.FixtureRequest, tmp_path: Path, smtpd_certificate: tuple[Path, Path]
) -> Iterator[SmtpTestServer]:
    srv = start_smtpd(tmp_path, mode=request.param, certificate=smtpd_certificate)
    try:
        yield srv
    finally:
        srv.stop()


def test_an_untrusted_certificate_is_a_tls_error_and_nothing_is_sent(
    server: SmtpTestServer,
) -> None:
    """Without the test CA the self-signed certificate fails verification."""
    settings = attrs.evolve(server.smtp_settings(), ca_file=None)
    with pytest.raises(TLSError) as info:
        send(SmtpSender(settings, lambda: Secret("alicepass")))
    assert info.value.breaker == "transient"
    assert server.messages == []


def test_the_default_tls_context_verifies_certificate_and_hostname_with_tls12_or_newer() -> None:
    """No option weakens verification: CERT_REQUIRED, hostname check, TLS >= 1.2."""
    context = make_tls_context(None)
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_the_password_is_fetched_only_when_needed_and_its_absence_is_typed(
    server: SmtpTestServer,
) -> None:
    """A missing secret surfaces as SecretUnavailable, after TLS, and sends nothing."""
    calls: list[int] = []

    def password() -> Secret:
        calls.append(1)
        raise SecretUnavailable("no secret", public="credential unavailable")

    sender = SmtpSender(server.smtp_settings(), password)
    assert calls == []
    with pytest.raises(SecretUnavailable):
        send(sender)
    assert calls == [1] and server.messages == []


def test_a_server_without_starttls_is_refused_before_auth(
    tmp_path: Path, smtpd_certificate: tuple[Path, Path]
) -> None:
    """STARTTLS mode never authenticates over a cleartext connection."""
    plain = start_smtpd(tmp_path, mode="plain", certificate=smtpd_certificate)
    try:
        asked: list[int] = []

        def password() -> Secret:
            asked.append(1)
            return Secret("alicepass")

        with pytest.raises(TLSError) as info:
            send(SmtpSender(plain.smtp_settings(), password))
        assert "STARTTLS" in info.value.public_message
        assert asked == [] and plain.messages == []
    finally:
        plain.stop()


def _sha256(server: SmtpTestServer) -> str:
    import hashlib

    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(Path(server.cert_path).read_text())).hexdigest()


def test_a_pinned_certificate_is_accepted_without_a_ca_and_a_wrong_pin_gets_no_password(
    server: SmtpTestServer,
) -> None:
    """pin_sha256 on SMTP (implicit TLS and STARTTLS): the self-signed certificate whose
    sha256 is pinned is accepted with no CA; any other certificate is refused right after the
    handshake, before AUTH: an impostor never sees the password."""
    asked: list[int] = []

    def password() -> Secret:
        asked.append(1)
        return Secret("alicepass")

    wrong = attrs.evolve(server.smtp_settings(), ca_file=None, pin_sha256="00" * 32)
    sender = SmtpSender(wrong, password)
    with pytest.raises(TLSError, match="does not match the pin"):
        send(sender)
    assert asked == [] and server.messages == []

    pinned = attrs.evolve(wrong, pin_sha256=_sha256(server))
    sender = SmtpSender(pinned, password)
    send(sender)
    assert asked == [1] and len(server.messages) == 1
    assert sender.certificate_sha256 == _sha256(server)
    assert sender.check().startswith("TLSv1.")


def test_a_pinned_context_skips_ca_and_host_name_checks_only_for_the_pin() -> None:
    pinned = make_tls_context("/nonexistent/ca.pem", pinned=True)  # ca_file unused with a pin
    assert pinned.verify_mode is ssl.CERT_NONE and not pinned.check_hostname
    assert pinned.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_a_closed_port_is_connection_failed() -> None:
    """Connecting to a port nobody listens on raises ConnectionFailed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        port = sock.getsockname()[1]
        settings = SmtpSettings(host="127.0.0.1", port=port, username="u", timeout=2)
        for tls in ("implicit", "starttls"):
            with pytest.raises(ConnectionFailed):
                send(SmtpSender(attrs.evolve(settings, tls=tls), lambda: Secret("x")))


def test_a_silent_server_is_an_operation_timeout() -> None:
    """A server that accepts but never greets hits the configured timeout."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(4)
        settings = SmtpSettings(
            host="127.0.0.1", port=sock.getsockname()[1], username="u", timeout=0.3
        )
        for tls in ("implicit", "starttls"):
            with pytest.raises(OperationTimeout) as info:
                send(SmtpSender(attrs.evolve(settings, tls=tls), lambda: Secret("x")))
            assert info.value.breaker == "transient"


def test_error_texts_never_contain_the_password(server: SmtpTestServer) -> None:
    """Neither the public message nor the detail of an auth failure shows the secret."""
    secret = "Sup3r-S3cret-Value"
    with pytest.raises(MailguardError) as info:
        send(SmtpSender(server.smtp_settings(), lambda: Secret(secret)))
    assert secret not in str(info.value) and secret not in info.value.public_message
    assert secret not in repr(info.value)


def test_the_ehlo_name_does_not_reveal_the_host() -> None:
    """EHLO uses a fixed neutral name instead of the machine's FQDN."""
    assert EHLO_NAME == "localhost"


def test_each_send_uses_its_own_connection(server: SmtpTestServer) -> None:
    """One connection per message: two sends, two SMTP sessions, two deliveries."""
    sender = SmtpSender(server.smtp_settings(), lambda: Secret("alicepass"))
    send(sender)
    send(sender)
    assert server.connections == 2 and len(server.messages) == 2


@pytest.mark.parametrize(
    ("envelope_from", "recipient"),
    [
        ("alice@example.com", "bob@example.org>\r\nRCPT TO:<eve@evil.example"),
        ("alice@example.com\r\nRSET", "bob@example.org"),
        ("alice@example.com", "bob@example.org\x00"),
    ],
)
def test_line_breaks_in_the_envelope_are_refused_before_connecting(
    server: SmtpTestServer, envelope_from: str, recipient: str
) -> None:
    """Even a caller that skipped compose cannot smuggle SMTP commands."""
    sender = SmtpSender(server.smtp_settings(), lambda: Secret("alicepass"))
    with pytest.raises(HeaderInjectionError):
        sender.send(envelope_from=envelope_from, recipients=[recipient], data=DATA)
    assert server.connections == 0 and server.messages == []


def test_no_log_record_contains_the_password(
    server: SmtpTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Successful and failed sends log nothing that includes the secret."""
    caplog.set_level(logging.DEBUG)
    send(SmtpSender(server.smtp_settings(), lambda: Secret("alicepass")))
    with pytest.raises(MailguardError):
        send(SmtpSender(server.smtp_settings(), lambda: Secret("Wrong-Secret-42")))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "alicepass" not in text and "Wrong-Secret-42" not in text
