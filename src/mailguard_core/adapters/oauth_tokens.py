"""OAuth2 access tokens: the shared cache (:class:`CachedTokenProvider`) and the authlib
adapter that refreshes them at a real token endpoint (:class:`AuthlibTokenProvider`).

The cache keeps the access token in memory only, hands it out until it is within
``refresh_margin`` seconds of expiry (at most half its lifetime), and obtains a new one from
the stored refresh token. A rotated refresh token is written back to the secret store at once;
when the store is read-only (the environment), the new one is kept in memory and a warning
says to run ``login``. If the provider refuses our refresh token but the store holds a
different one (another mailguard process rotated it), that one is tried once.

Token endpoint requests are authlib's (``OAuth2Session.refresh_token``); this module only
translates its outcomes into mailguard errors. Texts never contain a token, a client secret
or the provider's free-text error description (only its RFC 6749 error code).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import attrs

from mailguard_core.config import OAuthSettings, oauth_endpoints
from mailguard_core.model.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    MailguardError,
    OperationTimeout,
    ProtocolError,
    SecretUnavailable,
)
from mailguard_core.model.oauth import Endpoints, client_secret_entry, refresh_token_entry
from mailguard_core.ports.secrets import Secret, SecretStore, optional_secret

__all__ = [
    "AuthlibTokenProvider",
    "CachedTokenProvider",
    "GrantRefused",
    "IssuedToken",
    "login_again",
]

logger = logging.getLogger("mailguard_core.model.oauth")

#: lifetime assumed when a token response has no ``expires_in`` (RFC 6749 5.1 allows that)
DEFAULT_LIFETIME = 600.0
#: the longest lifetime believed from a token response (a bogus huge one would mean no
#: refresh until a server refuses the token)
MAX_LIFETIME = 7 * 86400.0
#: refresh this many seconds before expiry (at most half the token's lifetime)
REFRESH_MARGIN = 60.0
#: seconds per token endpoint request
HTTP_TIMEOUT = 20.0

_ERROR_CODE = re.compile(r"[a-z_]{1,40}")


def login_again(account: str) -> str:
    """The public advice when an account's OAuth grant no longer works."""
    return (
        f"the OAuth sign-in of account {account!r} is no longer valid (revoked or expired); "
        f"run `mailguard-mcp login {account}` again"
    )


@attrs.frozen(kw_only=True)
class IssuedToken:
    """One successful token endpoint answer."""

    access_token: Secret
    #: seconds; None when the provider did not say
    expires_in: float | None
    #: a new refresh token (rotation), else None
    refresh_token: Secret | None = None


class GrantRefused(AuthenticationFailed):
    """The provider refused the refresh token (``invalid_grant``): run ``login`` again."""


#: exchanges a refresh token for an access token; raises MailguardError only
Refresher = Callable[[Secret], IssuedToken]


class CachedTokenProvider:
    """The :class:`~mailguard_core.ports.TokenProvider` logic around a ``refresh`` function.

    Args:
        account: the account name (secret-store entries and messages).
        secrets: where the refresh token lives (entry ``ACCOUNT:oauth``).
        refresh: the token endpoint call.
        clock: seconds (``time.time``); tests pass a fake.
        refresh_margin: refresh this long before expiry (at most half the lifetime).
    """

    def __init__(
        self,
        account: str,
        secrets: SecretStore,
        refresh: Refresher,
        *,
        clock: Callable[[], float] = time.time,
        refresh_margin: float = REFRESH_MARGIN,
    ) -> None:
        self._account = account
        self._secrets = secrets
        self._refresh = refresh
        self._clock = clock
        self._margin = refresh_margin
        self._lock = threading.Lock()
        self._token: Secret | None = None
        self._refresh_at = 0.0
        self._refresh_token: Secret | None = None
        #: token endpoint calls made (for tests and the dry run)
        self.refreshes = 0

    @property
    def account(self) -> str:
        return self._account

    def __repr__(self) -> str:
        return f"{type(self).__name__}(account={self._account!r})"

    def access_token(self) -> Secret:
        with self._lock:
            if self._token is not None and self._clock() < self._refresh_at:
                return self._token
            return self._renew()

    def invalidate(self, token: Secret) -> None:
        with self._lock:
            if self._token is not None and self._token == token:
                self._token = None

    def _stored_refresh_token(self) -> Secret:
        entry = refresh_token_entry(self._account)
        try:
            return self._secrets.get(entry)
        except SecretUnavailable as exc:
            raise SecretUnavailable(
                f"no refresh token for {self._account!r}: {exc}",
                public=f"account {self._account!r} has not signed in with OAuth yet: run "
                f"`mailguard-mcp login {self._account}`",
            ) from exc

    def _renew(self) -> Secret:
        current = self._refresh_token or self._stored_refresh_token()
        try:
            issued = self._call(current)
        except GrantRefused:
            stored = self._stored_refresh_token()
            if stored == current:
                raise
            current = stored  # rotated by another process meanwhile: try that one once
            issued = self._call(current)
        now = self._clock()
        lifetime = issued.expires_in if issued.expires_in is not None else DEFAULT_LIFETIME
        lifetime = max(lifetime, 0.0)
        self._refresh_at = now + lifetime - min(self._margin, lifetime / 2)
        self._token = issued.access_token
        self._refresh_token = current
        if issued.refresh_token is not None and issued.refresh_token != current:
            self._refresh_token = issued.refresh_token
            self._store_rotated(issued.refresh_token)
        return issued.access_token

    def _call(self, refresh_token: Secret) -> IssuedToken:
        self.refreshes += 1
        self._token = None
        try:
            issued = self._refresh(refresh_token)
        except MailguardError:
            raise
        except Exception as exc:  # a refresher must translate; never let a library error out
            # not chained: a library's text near a token request may quote the request
            raise ProtocolError(f"token refresh failed: {type(exc).__name__}") from None
        if not issued.access_token.reveal():
            raise ProtocolError("the token endpoint returned an empty access token")
        return issued

    def _store_rotated(self, refresh_token: Secret) -> None:
        try:
            self._secrets.set(refresh_token_entry(self._account), refresh_token)
        except MailguardError as exc:
            logger.warning(
                "account %s: the provider rotated the refresh token but it could not be "
                "stored (%s); it is kept in memory until exit, then run `mailguard-mcp "
                "login %s`",
                self._account,
                exc.public_message,
                self._account,
            )


@contextmanager
def _token_endpoint_errors(account: str) -> Iterator[None]:
    """authlib and requests errors -> mailguard errors (no provider text, no token)."""
    import requests
    from authlib.integrations.base_client.errors import OAuthError

    try:
        yield
    except OAuthError as exc:
        code = exc.error if isinstance(exc.error, str) else ""
        code = code if _ERROR_CODE.fullmatch(code) else "unknown"
        if code == "invalid_grant":
            raise GrantRefused(
                f"token endpoint: invalid_grant for {account!r}", public=login_again(account)
            ) from None
        if code in ("invalid_client", "unauthorized_client"):
            raise AuthenticationFailed(
                f"token endpoint: {code} for {account!r}",
                public=f"the OAuth provider refused the app registration of account "
                f"{account!r} ({code}): check [accounts.oauth] client_id (and the client "
                "secret, if the provider needs one)",
            ) from None
        raise ProtocolError(f"token endpoint error: {code}") from None
    except requests.Timeout as exc:
        raise OperationTimeout("the OAuth token endpoint did not answer in time") from exc
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        raise ConnectionFailed(
            f"token endpoint answered HTTP {status}",
            public="the OAuth provider is unavailable",
        ) from None
    except (requests.ConnectionError, OSError) as exc:
        raise ConnectionFailed(
            f"token endpoint unreachable: {type(exc).__name__}",
            public="could not reach the OAuth provider",
        ) from None
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        raise ProtocolError(f"token endpoint: unusable answer ({type(exc).__name__})") from None


def issued_from(token: object) -> IssuedToken:
    """An authlib token dict as :class:`IssuedToken`.

    Raises:
        ProtocolError: no string ``access_token`` or a malformed ``expires_in``.
    """
    if not isinstance(token, dict):
        raise ProtocolError("token endpoint: the answer is not an object")
    access = token.get("access_token")
    if not isinstance(access, str) or not access:
        raise ProtocolError("token endpoint: no access_token in the answer")
    expires = token.get("expires_in")
    if expires is not None:
        try:
            expires = float(expires)
        except (TypeError, ValueError):
            raise ProtocolError("token endpoint: expires_in is not a number") from None
        # nan/inf would freeze or defeat the refresh schedule: unknown; else 0 s .. a week
        expires = min(max(expires, 0.0), MAX_LIFETIME) if math.isfinite(expires) else None
    refresh = token.get("refresh_token")
    return IssuedToken(
        access_token=Secret(access),
        expires_in=expires,
        refresh_token=Secret(refresh) if isinstance(refresh, str) and refresh else None,
    )


def oauth_session(
    oauth: OAuthSettings,
    client_secret: Secret | None,
    *,
    timeout: float = HTTP_TIMEOUT,
    **kw: object,
) -> object:
    """An authlib ``OAuth2Session`` for ``oauth``'s client (public unless a secret is given)."""
    from authlib.integrations.requests_client import OAuth2Session

    return OAuth2Session(
        client_id=oauth.client_id,
        client_secret=client_secret.reveal() if client_secret is not None else None,
        token_endpoint_auth_method="client_secret_post" if client_secret else "none",
        default_timeout=timeout,
        **kw,
    )


class AuthlibTokenProvider(CachedTokenProvider):
    """Access tokens refreshed at the provider's token endpoint with authlib.

    Args:
        account: the account name.
        oauth: the account's ``[accounts.oauth]`` settings.
        secrets: holds ``ACCOUNT:oauth`` (refresh token) and optionally
            ``ACCOUNT:oauth-client`` (client secret).
        clock, refresh_margin: see :class:`CachedTokenProvider`.
        timeout: seconds per token endpoint request.
    """

    def __init__(
        self,
        account: str,
        oauth: OAuthSettings,
        secrets: SecretStore,
        *,
        clock: Callable[[], float] = time.time,
        refresh_margin: float = REFRESH_MARGIN,
        timeout: float = HTTP_TIMEOUT,
    ) -> None:
        self._oauth = oauth
        self._endpoints: Endpoints = oauth_endpoints(oauth)
        self._timeout = timeout
        self._store = secrets
        super().__init__(
            account, secrets, self._refresh_at_endpoint, clock=clock, refresh_margin=refresh_margin
        )

    def _refresh_at_endpoint(self, refresh_token: Secret) -> IssuedToken:
        client_secret = optional_secret(self._store, client_secret_entry(self.account))
        session = oauth_session(self._oauth, client_secret, timeout=self._timeout)
        try:
            with _token_endpoint_errors(self.account):
                extra = (
                    {"scope": " ".join(self._endpoints.scopes)}
                    if self._endpoints.refresh_with_scope
                    else {}
                )
                token = session.refresh_token(  # type: ignore[attr-defined]
                    self._endpoints.token_url, refresh_token=refresh_token.reveal(), **extra
                )
                return issued_from(dict(token))
        finally:
            session.close()  # type: ignore[attr-defined]
