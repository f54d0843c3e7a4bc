"""The ``TokenProvider`` contract across the in-memory fake (over ``InMemoryIssuer``) and the
authlib adapter (over the local authlib authorization server on loopback).

Both issuers share one control interface (grant, user_of, revoke_access, revoke_grants,
token_requests, rotate, expires_in) and read time from the test's clock, so advancing the
clock expires tokens at the issuer and in the provider's cache alike.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import pytest

from mailguard_core.adapters.keyring_secrets import EnvSecretStore
from mailguard_core.adapters.memory_secrets import InMemorySecretStore
from mailguard_core.adapters.memory_tokens import InMemoryIssuer, InMemoryTokenProvider
from mailguard_core.adapters.oauth_tokens import AuthlibTokenProvider, CachedTokenProvider
from mailguard_core.config import OAuthSettings
from mailguard_core.model.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    MailguardError,
    SecretUnavailable,
)
from mailguard_core.ports import SecretStore, TokenProvider
from mailguard_core.ports.secrets import Secret
from tests.support.oauth_server import LocalAuthorizationServer

ACCOUNT = "work"
ENTRY = "work:oauth"


class Clock:
    """A settable clock (seconds) shared by the issuer and the provider."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Issuer(Protocol):
    rotate: bool
    expires_in: float
    token_requests: int

    def grant(self, user: str) -> str: ...
    def user_of(self, access_token: str) -> str | None: ...
    def revoke_access(self, access_token: str) -> None: ...
    def revoke_grants(self) -> None: ...


Make = Callable[[SecretStore], CachedTokenProvider]


class TokenProviderContract:
    """Behaviour every TokenProvider must show; subclasses provide ``issuer`` and ``make``."""

    @pytest.fixture
    def clock(self) -> Clock:
        return Clock()

    @pytest.fixture
    def issuer(self, clock: Clock) -> Iterator[Issuer]:
        raise NotImplementedError

    @pytest.fixture
    def make(self, issuer: Issuer, clock: Clock) -> Make:
        raise NotImplementedError

    @pytest.fixture
    def store(self, issuer: Issuer) -> InMemorySecretStore:
        return InMemorySecretStore({ENTRY: issuer.grant("alice")})

    def test_a_token_the_issuer_accepts_is_cached_until_near_expiry(
        self, issuer: Issuer, make: Make, store: InMemorySecretStore, clock: Clock
    ) -> None:
        """One token endpoint call; the same token until the margin before expiry."""
        provider: TokenProvider = make(store)
        token = provider.access_token()
        assert issuer.user_of(token.reveal()) == "alice"
        assert provider.access_token() == token
        assert issuer.token_requests == 1
        clock.advance(issuer.expires_in - 61)  # outside the 60 s margin: still cached
        assert provider.access_token() == token and issuer.token_requests == 1
        clock.advance(2)  # inside the margin: refreshed before the issuer expires it
        fresh = provider.access_token()
        assert fresh != token and issuer.token_requests == 2
        assert issuer.user_of(fresh.reveal()) == "alice"

    def test_an_expired_token_is_never_handed_out(
        self, issuer: Issuer, make: Make, store: InMemorySecretStore, clock: Clock
    ) -> None:
        """After the issuer's expiry the cached token is replaced by one it accepts."""
        provider = make(store)
        old = provider.access_token()
        clock.advance(issuer.expires_in + 1)
        assert issuer.user_of(old.reveal()) is None
        assert issuer.user_of(provider.access_token().reveal()) == "alice"

    def test_invalidate_fetches_a_new_token_once(
        self, issuer: Issuer, make: Make, store: InMemorySecretStore
    ) -> None:
        """A rejected token is replaced; invalidating an older one does not refetch."""
        provider = make(store)
        first = provider.access_token()
        issuer.revoke_access(first.reveal())
        provider.invalidate(first)
        second = provider.access_token()
        assert second != first and issuer.user_of(second.reveal()) == "alice"
        provider.invalidate(first)  # stale news: the cache already moved on
        assert provider.access_token() == second
        assert issuer.token_requests == 2

    def test_a_revoked_grant_is_auth_failed_telling_to_log_in_again(
        self, issuer: Issuer, make: Make, store: InMemorySecretStore
    ) -> None:
        """invalid_grant -> AuthenticationFailed (breaker 'auth') naming `login ACCOUNT`."""
        provider = make(store)
        token = provider.access_token()
        issuer.revoke_grants()
        provider.invalidate(token)
        with pytest.raises(AuthenticationFailed) as info:
            provider.access_token()
        error = info.value
        assert error.code == "auth_failed" and error.breaker == "auth"
        assert f"mailguard-mcp login {ACCOUNT}" in error.public_message
        refresh = store.get(ENTRY).reveal()
        for text in (str(error), error.public_message, repr(error)):
            assert token.reveal() not in text and refresh not in text

    def test_a_rotated_refresh_token_is_written_back_before_returning(
        self, issuer: Issuer, make: Make, store: InMemorySecretStore, clock: Clock
    ) -> None:
        """With rotation the store holds the new refresh token; the provider keeps working."""
        issuer.rotate = True
        original = store.get(ENTRY)
        provider = make(store)
        provider.access_token()
        rotated = store.get(ENTRY)
        assert rotated != original
        clock.advance(issuer.expires_in)
        provider.access_token()  # refreshes with the rotated token (the old one is dead)
        assert store.get(ENTRY) not in (original, rotated)
        assert issuer.token_requests == 2

    def test_a_token_rotated_by_another_process_is_picked_up_from_the_store(
        self, issuer: Issuer, make: Make, store: InMemorySecretStore, clock: Clock
    ) -> None:
        """Two providers share one store: the second's rotation does not lock out the first."""
        issuer.rotate = True
        first, second = make(store), make(store)
        first.access_token()
        second.access_token()  # rotates again: first's in-memory refresh token is now dead
        clock.advance(issuer.expires_in)
        assert issuer.user_of(first.access_token().reveal()) == "alice"

    def test_no_stored_refresh_token_is_secret_unavailable_telling_to_log_in(
        self, make: Make
    ) -> None:
        """Nothing in the store: SecretUnavailable whose public text names `login ACCOUNT`."""
        with pytest.raises(SecretUnavailable) as info:
            make(InMemorySecretStore()).access_token()
        assert f"mailguard-mcp login {ACCOUNT}" in info.value.public_message

    def test_rotation_with_a_read_only_store_keeps_working_and_warns_without_the_token(
        self,
        issuer: Issuer,
        make: Make,
        clock: Clock,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """The environment cannot be written: the new refresh token lives on in memory."""
        issuer.rotate = True
        refresh = issuer.grant("alice")
        store = EnvSecretStore({"MAILGUARD_WORK_REFRESH_TOKEN": refresh})
        provider = make(store)
        with caplog.at_level(logging.WARNING, logger="mailguard_core.model.oauth"):
            provider.access_token()
            clock.advance(issuer.expires_in)
            token = provider.access_token()
        assert issuer.user_of(token.reveal()) == "alice"
        assert "mailguard-mcp login work" in caplog.text and refresh not in caplog.text
        assert token.reveal() not in caplog.text

    def test_repr_and_errors_never_show_a_token(
        self, make: Make, store: InMemorySecretStore
    ) -> None:
        """repr of the provider and of the token hide the values."""
        provider = make(store)
        token = provider.access_token()
        assert token.reveal() not in repr(provider) + repr(token) + str(token)
        assert store.get(ENTRY).reveal() not in repr(provider)


class TestInMemoryTokenProvider(TokenProviderContract):
    @pytest.fixture
    def issuer(self, clock: Clock) -> Iterator[Issuer]:
        yield InMemoryIssuer(clock=clock)

    @pytest.fixture
    def make(self, issuer: Issuer, clock: Clock) -> Make:
        assert isinstance(issuer, InMemoryIssuer)
        return lambda store: InMemoryTokenProvider(ACCOUNT, issuer, store, clock=clock)

    def test_an_unreachable_issuer_is_connection_failed(
        self, issuer: Issuer, make: Make, store: InMemorySecretStore
    ) -> None:
        """Transient: the breaker counts it like a failing mail server."""
        assert isinstance(issuer, InMemoryIssuer)
        issuer.reachable = False
        with pytest.raises(ConnectionFailed) as info:
            make(store).access_token()
        assert info.value.breaker == "transient"


def _settings(server: LocalAuthorizationServer, **extra: Any) -> OAuthSettings:
    table = server.oauth_table(**extra)
    table["scopes"] = tuple(table["scopes"])
    return OAuthSettings(**table)


class TestAuthlibTokenProvider(TokenProviderContract):
    @pytest.fixture
    def issuer(self, clock: Clock) -> Iterator[Issuer]:
        server = LocalAuthorizationServer(clock=clock).start()
        try:
            yield server
        finally:
            server.stop()

    @pytest.fixture
    def make(self, issuer: Issuer, clock: Clock) -> Make:
        assert isinstance(issuer, LocalAuthorizationServer)
        settings = _settings(issuer)
        return lambda store: AuthlibTokenProvider(ACCOUNT, settings, store, clock=clock, timeout=5)

    def test_an_unreachable_token_endpoint_is_connection_failed(
        self, issuer: Issuer, make: Make, store: InMemorySecretStore
    ) -> None:
        """A stopped server: ConnectionFailed naming the provider, no library text."""
        assert isinstance(issuer, LocalAuthorizationServer)
        provider = make(store)
        issuer.stop()
        with pytest.raises(ConnectionFailed) as info:
            provider.access_token()
        assert info.value.public_message == "could not reach the OAuth provider"
        assert "127.0.0.1" not in str(info.value)

    def test_a_confidential_client_sends_its_secret_from_the_store(
        self, issuer: Issuer, clock: Clock
    ) -> None:
        """The client secret comes from ``ACCOUNT:oauth-client``; without it: auth_failed."""
        from tests.support.oauth_server import SECRET_CLIENT_ID, SECRET_CLIENT_SECRET

        assert isinstance(issuer, LocalAuthorizationServer)
        settings = _settings(issuer, client_id=SECRET_CLIENT_ID)
        refresh = issuer.grant("alice", client_id=SECRET_CLIENT_ID)
        with_secret = InMemorySecretStore(
            {ENTRY: refresh, "work:oauth-client": SECRET_CLIENT_SECRET}
        )
        provider = AuthlibTokenProvider(ACCOUNT, settings, with_secret, clock=clock)
        assert issuer.user_of(provider.access_token().reveal()) == "alice"
        without = AuthlibTokenProvider(
            ACCOUNT, settings, InMemorySecretStore({ENTRY: refresh}), clock=clock
        )
        with pytest.raises(AuthenticationFailed) as info:
            without.access_token()
        assert "client_id" in info.value.public_message
        assert SECRET_CLIENT_SECRET not in str(info.value)

    def test_only_mailguard_errors_escape_a_hostile_token_endpoint(
        self, clock: Clock, store: InMemorySecretStore
    ) -> None:
        """Non-JSON, a JSON array, a 500, an answer without access_token: typed errors."""
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        answers = [
            (200, b"<html>not json</html>"),
            (200, b"[1, 2]"),
            (500, b"{}"),
            (200, b'{"token_type": "bearer"}'),
            (200, b'{"access_token": "x", "expires_in": "soon"}'),
            (400, b'{"error": "\\u202e\\ninjected"}'),
        ]

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                status, body = answers[0]
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            url = f"http://127.0.0.1:{httpd.server_port}/token"
            settings = OAuthSettings(
                provider="custom",
                client_id="c",
                authorization_url=url,
                token_url=url,
                scopes=("mail",),
            )
            while answers:
                provider = AuthlibTokenProvider(ACCOUNT, settings, store, clock=clock)
                with pytest.raises(MailguardError) as info:
                    provider.access_token()
                assert "\n" not in str(info.value) and "injected" not in str(info.value)
                answers.pop(0)
        finally:
            httpd.shutdown()
            httpd.server_close()
            thread.join(5)


def test_both_providers_satisfy_the_port() -> None:
    """Structural check: the fake and the adapter are TokenProviders for mypy and readers."""
    store = InMemorySecretStore({ENTRY: "x"})
    providers: list[TokenProvider] = [
        InMemoryTokenProvider(ACCOUNT, InMemoryIssuer(), store),
        AuthlibTokenProvider(
            ACCOUNT,
            OAuthSettings(provider="microsoft", client_id="c"),
            store,
        ),
    ]
    assert [p.account for p in providers] == [ACCOUNT, ACCOUNT]
    assert all(isinstance(p.access_token, Callable) for p in providers)  # type: ignore[arg-type]
    assert Secret("a") == Secret("a")
