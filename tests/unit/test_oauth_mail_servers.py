"""OAuth2 sign-in against real servers: Dovecot validating bearer tokens (oauth2 passdb with
RFC 7662 introspection at the local authlib authorization server) and aiosmtpd with AUTH
XOAUTH2/OAUTHBEARER checking tokens at the same server.

The authorization server, the token provider and these tests share one settable clock, so
"the token expired" is the same moment for the server and for mailguard's cache.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import imapclient  # type: ignore[import-untyped]
import pytest
from imapclient.exceptions import LoginError  # type: ignore[import-untyped]

from mailguard_core.adapters.imap import ImapMailStore
from mailguard_core.adapters.memory_audit import InMemoryAuditSink
from mailguard_core.adapters.memory_secrets import InMemorySecretStore
from mailguard_core.adapters.oauth_tokens import AuthlibTokenProvider
from mailguard_core.adapters.smtp import SmtpSender
from mailguard_core.config import OAuthSettings, parse_config
from mailguard_core.gate import FakeClock
from mailguard_core.model.errors import AuthenticationFailed, CircuitOpen, MailguardError
from mailguard_core.ports.secrets import Secret
from mailguard_core.services.dispatch import ToolGate as Gate
from tests.support.dovecot import DovecotServer, dovecot_available, start_dovecot
from tests.support.oauth_server import LocalAuthorizationServer
from tests.support.smtpd import SmtpTestServer, smtpd_certificate, start_smtpd  # noqa: F401

pytestmark = [
    pytest.mark.dovecot,
    pytest.mark.skipif(not dovecot_available(), reason="dovecot is not on PATH"),
]

USER = "alice"
ENTRY = "work:oauth"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def auth_server(clock: Clock) -> Iterator[LocalAuthorizationServer]:
    server = LocalAuthorizationServer(clock=clock, user=USER).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _fresh_server_state(auth_server: LocalAuthorizationServer) -> None:
    auth_server.rotate = False
    auth_server.expires_in = 3600.0


def _dovecot(
    tmp: Path, auth: LocalAuthorizationServer, mechanisms: tuple[str, ...]
) -> DovecotServer:
    server = start_dovecot(
        tmp, oauth_introspection_url=auth.url + "/introspect", oauth_mechanisms=mechanisms
    )
    server.add_user(USER, "app-password")
    return server


@pytest.fixture(scope="module")
def dovecot_both(
    tmp_path_factory: pytest.TempPathFactory, auth_server: LocalAuthorizationServer
) -> Iterator[DovecotServer]:
    """Dovecot offering AUTH=XOAUTH2 and AUTH=OAUTHBEARER."""
    server = _dovecot(
        tmp_path_factory.mktemp("dovecot-oauth"), auth_server, ("xoauth2", "oauthbearer")
    )
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="module")
def dovecot_xoauth2(
    tmp_path_factory: pytest.TempPathFactory, auth_server: LocalAuthorizationServer
) -> Iterator[DovecotServer]:
    """Dovecot offering only AUTH=XOAUTH2 (as Outlook/Gmail did for years)."""
    server = _dovecot(tmp_path_factory.mktemp("dovecot-xoauth2"), auth_server, ("xoauth2",))
    try:
        yield server
    finally:
        server.destroy()


def _oauth(auth: LocalAuthorizationServer) -> OAuthSettings:
    table = auth.oauth_table()
    table["scopes"] = tuple(table["scopes"])
    return OAuthSettings(**table)


@pytest.fixture
def secrets(auth_server: LocalAuthorizationServer) -> InMemorySecretStore:
    return InMemorySecretStore({ENTRY: auth_server.grant(USER)})


@pytest.fixture
def tokens(
    auth_server: LocalAuthorizationServer, secrets: InMemorySecretStore, clock: Clock
) -> AuthlibTokenProvider:
    return AuthlibTokenProvider("work", _oauth(auth_server), secrets, clock=clock, timeout=5)


def _no_password() -> Secret:
    raise AssertionError("an OAuth2 login must not ask for a password")


def _store(
    server: DovecotServer, tokens: AuthlibTokenProvider, tls: str = "implicit"
) -> ImapMailStore:
    settings = attrs.evolve(server.imap_settings(USER, tls=tls), auth="oauth2")  # type: ignore[arg-type]
    return ImapMailStore("work", settings, _no_password, tokens=tokens)


def _raw_login(server: DovecotServer, token: str) -> bool:
    """Does Dovecot accept ``token`` right now (straight imapclient XOAUTH2, no mailguard)?"""
    ctx = ssl.create_default_context(cafile=str(server.cert_path))
    client = imapclient.IMAPClient("127.0.0.1", port=server.imaps_port, ssl_context=ctx, timeout=10)
    try:
        client.oauth2_login(USER, token)
        return True
    except LoginError:
        return False
    finally:
        client.shutdown()


# ------------------------------------------------------------------------------ IMAP
@pytest.mark.parametrize(
    ("which", "tls", "mechanism"),
    [
        ("dovecot_both", "implicit", "OAUTHBEARER"),
        ("dovecot_both", "starttls", "OAUTHBEARER"),
        ("dovecot_xoauth2", "implicit", "XOAUTH2"),
        ("dovecot_xoauth2", "starttls", "XOAUTH2"),
    ],
)
def test_imap_signs_in_with_the_mechanism_the_server_offers(
    request: pytest.FixtureRequest,
    tokens: AuthlibTokenProvider,
    auth_server: LocalAuthorizationServer,
    which: str,
    tls: str,
    mechanism: str,
) -> None:
    """OAUTHBEARER where offered, else XOAUTH2; Dovecot checked the token by introspection."""
    server: DovecotServer = request.getfixturevalue(which)
    before = auth_server.introspections
    store = _store(server, tokens, tls)
    try:
        info = store.server_info()
        folders = {f.name for f in store.list_folders()}
    finally:
        store.close()
    assert info.login_mechanism == mechanism
    assert "INBOX" in folders
    assert auth_server.introspections == before + 1
    assert f"user=<{USER}>, method={mechanism}" in server.log_tail(200)


def test_an_expired_token_is_refreshed_before_the_next_login(
    dovecot_both: DovecotServer,
    tokens: AuthlibTokenProvider,
    auth_server: LocalAuthorizationServer,
    clock: Clock,
) -> None:
    """Past expiry Dovecot refuses the old token; mailguard never sends it and logs in."""
    store = _store(dovecot_both, tokens)
    try:
        store.server_info()
        old = tokens.access_token()
        requests = auth_server.token_requests
        clock.advance(3600)
        assert not _raw_login(dovecot_both, old.reveal())  # the server agrees: expired
        store.close()  # the next call connects (and logs in) again
        assert store.server_info().login_mechanism == "OAUTHBEARER"
    finally:
        store.close()
    assert auth_server.token_requests == requests + 1
    assert tokens.access_token() != old


def test_a_token_the_server_rejects_is_refreshed_once_and_the_login_retried(
    dovecot_both: DovecotServer,
    tokens: AuthlibTokenProvider,
    auth_server: LocalAuthorizationServer,
) -> None:
    """The cached token was revoked early: one refused AUTHENTICATE, one refresh, success."""
    store = _store(dovecot_both, tokens)
    try:
        store.server_info()
        old = tokens.access_token()
        auth_server.revoke_access(old.reveal())
        store.close()
        requests, checks = auth_server.token_requests, auth_server.introspections
        assert store.server_info().login_mechanism == "OAUTHBEARER"
    finally:
        store.close()
    assert auth_server.token_requests == requests + 1
    assert auth_server.introspections == checks + 2  # the refused token, then the fresh one


def test_a_revoked_grant_is_auth_failed_and_opens_the_breaker_like_a_wrong_password(
    dovecot_both: DovecotServer,
    tokens: AuthlibTokenProvider,
    auth_server: LocalAuthorizationServer,
    secrets: InMemorySecretStore,
) -> None:
    """Consent withdrawn: auth_failed telling to run login; the next call is circuit_open."""
    config = parse_config(
        {
            "accounts": [
                {
                    "name": "work",
                    "address": "alice@example.org",
                    "imap": {"host": "127.0.0.1", "username": USER, "auth": "oauth2"},
                    "oauth": {**auth_server.oauth_table()},
                }
            ]
        }
    )
    audit = InMemoryAuditSink()
    gate = Gate.from_config(config, audit, clock=FakeClock())
    store = _store(dovecot_both, tokens)
    try:
        with gate.guard("list_folders", "work", {}):
            store.list_folders()
        auth_server.revoke_grants()
        store.close()
        with pytest.raises(AuthenticationFailed) as info, gate.guard("list_folders", "work", {}):
            store.list_folders()
        with pytest.raises(CircuitOpen), gate.guard("list_folders", "work", {}):
            store.list_folders()
    finally:
        store.close()
    assert info.value.code == "auth_failed"
    assert "run `mailguard-mcp login work` again" in info.value.public_message
    texts = [str(info.value), info.value.public_message, repr(audit.records)]
    secret_values = [*auth_server.issued_secrets, secrets.get(ENTRY).reveal()]
    for text in texts:
        for value in secret_values:
            assert value not in text


def test_a_rotated_refresh_token_is_persisted_and_used_for_the_next_refresh(
    dovecot_both: DovecotServer,
    tokens: AuthlibTokenProvider,
    auth_server: LocalAuthorizationServer,
    secrets: InMemorySecretStore,
    clock: Clock,
) -> None:
    """The server rotates: the store holds the new refresh token, the old one is dead, and
    a login after expiry works with the new one."""
    auth_server.rotate = True
    original = secrets.get(ENTRY).reveal()
    store = _store(dovecot_both, tokens)
    try:
        store.server_info()
        rotated = secrets.get(ENTRY).reveal()
        assert rotated != original
        assert not auth_server.refresh_token_valid(original)
        clock.advance(3600)
        store.close()
        assert store.server_info().login_mechanism == "OAUTHBEARER"
    finally:
        store.close()
    assert secrets.get(ENTRY).reveal() not in (original, rotated)
    assert auth_server.refresh_token_valid(secrets.get(ENTRY).reveal())


def test_a_server_without_oauth_mechanisms_is_a_clear_auth_failure(
    tmp_path: Path, tokens: AuthlibTokenProvider
) -> None:
    """The ordinary test Dovecot offers only PLAIN/LOGIN: no token is sent anywhere."""
    server = start_dovecot(tmp_path / "plain")
    try:
        server.add_user(USER, "pw")
        store = _store(server, tokens)
        with pytest.raises(AuthenticationFailed) as info:
            store.server_info()
        store.close()
    finally:
        server.destroy()
    assert "no OAuth2 sign-in" in info.value.public_message
    assert tokens.refreshes == 0


# ------------------------------------------------------------------------------ SMTP
@pytest.fixture
def smtp_factory(
    tmp_path: Path,
    auth_server: LocalAuthorizationServer,
    smtpd_certificate: tuple[Path, Path],  # noqa: F811
) -> Iterator[object]:
    started: list[SmtpTestServer] = []

    def start(
        mode: str = "starttls", mechanisms: tuple[str, ...] = ("XOAUTH2", "OAUTHBEARER")
    ) -> SmtpTestServer:
        server = start_smtpd(
            tmp_path,
            mode=mode,  # type: ignore[arg-type]
            certificate=smtpd_certificate,
            oauth=auth_server.user_of,
            oauth_mechanisms=mechanisms,
        )
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


def _send(server: SmtpTestServer, tokens: AuthlibTokenProvider) -> None:
    settings = attrs.evolve(server.smtp_settings(USER), auth="oauth2")
    SmtpSender(settings, _no_password, tokens=tokens).send(
        envelope_from="alice@example.org",
        recipients=["bob@example.org"],
        data=b"From: alice@example.org\r\nTo: bob@example.org\r\nSubject: hi\r\n\r\nhello\r\n",
    )


@pytest.mark.parametrize(
    ("mode", "mechanisms", "expected"),
    [
        ("starttls", ("XOAUTH2", "OAUTHBEARER"), "OAUTHBEARER"),
        ("implicit", ("XOAUTH2", "OAUTHBEARER"), "OAUTHBEARER"),
        ("starttls", ("XOAUTH2",), "XOAUTH2"),
        ("implicit", ("XOAUTH2",), "XOAUTH2"),
    ],
)
def test_smtp_authenticates_with_the_mechanism_the_server_offers(
    smtp_factory: object,
    tokens: AuthlibTokenProvider,
    mode: str,
    mechanisms: tuple[str, ...],
    expected: str,
) -> None:
    """AUTH OAUTHBEARER where offered, else XOAUTH2; the message is accepted as alice."""
    server = smtp_factory(mode, mechanisms)  # type: ignore[operator]
    _send(server, tokens)
    assert server.oauth_logins == [(expected, USER)]
    assert [m.login for m in server.messages] == [USER]


def test_smtp_refreshes_a_rejected_token_once_and_shares_the_cache_with_imap(
    smtp_factory: object,
    tokens: AuthlibTokenProvider,
    auth_server: LocalAuthorizationServer,
) -> None:
    """A revoked cached token: 535 once, a refresh, 235; then the refreshed token is reused."""
    server = smtp_factory()  # type: ignore[operator]
    first = tokens.access_token()
    auth_server.revoke_access(first.reveal())
    requests = auth_server.token_requests
    _send(server, tokens)
    _send(server, tokens)
    assert server.oauth_failures == ["OAUTHBEARER"]
    assert [m for m, _ in server.oauth_logins] == ["OAUTHBEARER", "OAUTHBEARER"]
    assert auth_server.token_requests == requests + 1


def test_smtp_with_a_revoked_grant_is_auth_failed_and_sends_nothing(
    smtp_factory: object,
    tokens: AuthlibTokenProvider,
    auth_server: LocalAuthorizationServer,
    secrets: InMemorySecretStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """XOAUTH2 path: refused, the grant is dead: auth_failed, no message, no secret in text."""
    server = smtp_factory("implicit", ("XOAUTH2",))  # type: ignore[operator]
    token = tokens.access_token()
    auth_server.revoke_grants()
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationFailed) as info:
        _send(server, tokens)
    assert "mailguard-mcp login work" in info.value.public_message
    assert server.messages == [] and server.oauth_failures == ["XOAUTH2"]
    for value in [token.reveal(), secrets.get(ENTRY).reveal(), *auth_server.issued_secrets]:
        assert value not in str(info.value) + info.value.public_message + caplog.text


def test_an_unreachable_authorization_server_is_a_transient_failure(
    dovecot_both: DovecotServer, clock: Clock
) -> None:
    """The token endpoint is down: the IMAP login fails typed and transient, nothing sent."""
    gone = LocalAuthorizationServer(clock=clock).start()
    settings = _oauth(gone)
    refresh = gone.grant(USER)
    gone.stop()
    tokens = AuthlibTokenProvider(
        "work", settings, InMemorySecretStore({ENTRY: refresh}), clock=clock, timeout=5
    )
    store = _store(dovecot_both, tokens)
    try:
        with pytest.raises(MailguardError) as info:
            store.server_info()
    finally:
        store.close()
    assert info.value.breaker == "transient"
    assert refresh not in str(info.value)
