"""TLS rules of ImapMailStore against Dovecot: pinning, trust, and no plaintext fallback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from mailguard_core.adapters.imap import ImapMailStore
from mailguard_core.config import ImapSettings
from mailguard_core.model.errors import AuthenticationFailed, ConfigError, TLSError
from mailguard_core.ports.secrets import Secret
from tests.support.dovecot import DovecotServer, dovecot_available, start_dovecot

pytestmark = pytest.mark.dovecot

WRONG_PIN = "00" * 32


class PasswordSpy:
    """A password source that records whether the store ever asked for the secret."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.calls = 0

    def __call__(self) -> Secret:
        self.calls += 1
        return Secret(self.value)


@pytest.mark.parametrize("tls", ["implicit", "starttls"])
def test_the_right_pin_is_accepted_without_any_ca_trust(
    dovecot: DovecotServer, imap_user: tuple[str, str], tls: str
) -> None:
    """With the server's SHA-256 pinned, its self-signed certificate is accepted."""
    name, password = imap_user
    pin = ":".join(dovecot.cert_sha256[i : i + 2].upper() for i in range(0, 64, 2))
    settings = dovecot.imap_settings(name, tls=tls, pin_sha256=pin, trust_cert=False)  # type: ignore[arg-type]
    store = ImapMailStore("acct", settings, lambda: Secret(password))
    try:
        info = store.server_info()
        assert info.certificate_sha256 == dovecot.cert_sha256
        assert info.tls_version in ("TLSv1.2", "TLSv1.3")
        assert "IMAP4REV1" in info.capabilities
    finally:
        store.close()


@pytest.mark.parametrize("tls", ["implicit", "starttls"])
def test_a_wrong_pin_is_refused_before_the_password_is_sent(
    dovecot: DovecotServer, imap_user: tuple[str, str], tls: str
) -> None:
    """A certificate that does not match the pin raises TLSError; no LOGIN happens."""
    name, password = imap_user
    spy = PasswordSpy(password)
    settings = dovecot.imap_settings(name, tls=tls, pin_sha256=WRONG_PIN)  # type: ignore[arg-type]
    with pytest.raises(TLSError) as info:
        ImapMailStore("acct", settings, spy).list_folders()
    assert spy.calls == 0
    assert WRONG_PIN not in info.value.public_message


def test_a_wrong_pin_is_refused_even_when_the_ca_would_trust_the_server(
    dovecot: DovecotServer, imap_user: tuple[str, str]
) -> None:
    """The pin replaces CA trust: a trusted but different certificate is still refused."""
    name, password = imap_user
    settings = dovecot.imap_settings(name, pin_sha256=WRONG_PIN, trust_cert=True)
    with pytest.raises(TLSError):
        ImapMailStore("acct", settings, lambda: Secret(password)).list_folders()


@pytest.mark.parametrize("tls", ["implicit", "starttls"])
def test_an_untrusted_certificate_without_a_pin_is_refused(
    dovecot: DovecotServer, imap_user: tuple[str, str], tls: str
) -> None:
    """A self-signed certificate not in any trusted CA file raises TLSError, before LOGIN."""
    name, password = imap_user
    spy = PasswordSpy(password)
    settings = dovecot.imap_settings(name, tls=tls, trust_cert=False)  # type: ignore[arg-type]
    with pytest.raises(TLSError):
        ImapMailStore("acct", settings, spy).list_folders()
    assert spy.calls == 0


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DovecotServer]:
    """A Dovecot with TLS switched off: its port offers no STARTTLS."""
    if not dovecot_available():
        pytest.skip("dovecot is not on PATH (install dovecot-imapd to run IMAP tests)")
    server = start_dovecot(
        Path(tmp_path_factory.mktemp("plain")), starttls=False, tmpfs_bytes=64 << 20
    )
    yield server
    server.destroy()


def test_a_server_without_starttls_is_refused_and_never_sees_the_password(
    plain_server: DovecotServer,
) -> None:
    """STARTTLS missing: TLSError, and the password is never asked for (no plaintext LOGIN)."""
    name, password = plain_server.add_user()
    spy = PasswordSpy(password)
    settings = plain_server.imap_settings(name, tls="starttls")
    with pytest.raises(TLSError) as info:
        ImapMailStore("acct", settings, spy).list_folders()
    assert spy.calls == 0
    assert info.value.public_message == TLSError.public


def test_implicit_tls_to_a_plaintext_port_fails_as_a_tls_error(
    plain_server: DovecotServer,
) -> None:
    """Speaking TLS to a plaintext IMAP port fails at the handshake; nothing is downgraded."""
    name, password = plain_server.add_user()
    spy = PasswordSpy(password)
    settings = plain_server.imap_settings(name, tls="starttls")
    settings = attrs.evolve(settings, tls="implicit", connect_timeout=3.0)
    with pytest.raises((TLSError, AuthenticationFailed)) as info:
        ImapMailStore("acct", settings, spy).list_folders()
    assert isinstance(info.value, TLSError)
    assert spy.calls == 0


def test_wrong_password_is_an_authentication_error_without_the_password_in_it(
    dovecot: DovecotServer, imap_user: tuple[str, str]
) -> None:
    """A refused LOGIN raises AuthenticationFailed; neither message contains the password."""
    name, _password = imap_user
    store = ImapMailStore("acct", dovecot.imap_settings(name), lambda: Secret("hunter2-wrong"))
    with pytest.raises(AuthenticationFailed) as info:
        store.list_folders()
    assert "hunter2" not in str(info.value) and "hunter2" not in info.value.public_message


def test_a_malformed_pin_is_a_config_error() -> None:
    """A pin that is not 64 hex digits is refused when the settings are built, before any
    store could use it."""
    with pytest.raises(ConfigError) as info:
        ImapSettings(host="127.0.0.1", username="u", pin_sha256="abc")
    assert "SHA-256 fingerprint" in info.value.public_message
