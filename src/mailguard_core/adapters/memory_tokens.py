"""An in-memory OAuth2 provider (:class:`InMemoryIssuer`) and the token provider over it
(:class:`InMemoryTokenProvider`), for tests; it passes the same contract suite as
:class:`~mailguard_core.adapters.oauth_tokens.AuthlibTokenProvider`."""

from __future__ import annotations

import secrets as _random
import threading
import time
from collections.abc import Callable

import attrs

from mailguard_core.adapters.oauth_tokens import (
    REFRESH_MARGIN,
    CachedTokenProvider,
    GrantRefused,
    IssuedToken,
    login_again,
)
from mailguard_core.model.errors import ConnectionFailed
from mailguard_core.ports.secrets import Secret, SecretStore

__all__ = ["InMemoryIssuer", "InMemoryTokenProvider"]


@attrs.define
class _Grant:
    user: str
    refresh_token: str
    revoked: bool = False


class InMemoryIssuer:
    """A fake authorization server: grants with refresh tokens, expiring access tokens.

    Args:
        clock: seconds; access tokens expire ``expires_in`` after issue by this clock.
        expires_in: lifetime of each access token.
        rotate: issue a new refresh token on every refresh (the old one stops working).
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.time, expires_in: float = 3600.0,
        rotate: bool = False,
    ) -> None:  # fmt: skip
        self.clock = clock
        self.expires_in = expires_in
        self.rotate = rotate
        #: False: every request fails as if the provider could not be reached
        self.reachable = True
        #: refresh requests received
        self.token_requests = 0
        self._grants: dict[str, _Grant] = {}  # refresh token -> grant
        self._access: dict[str, tuple[_Grant, float]] = {}  # access token -> grant, expiry
        self._lock = threading.Lock()

    def grant(self, user: str) -> str:
        """A new grant for ``user`` (what ``login`` obtains); returns its refresh token."""
        token = _random.token_urlsafe(24)
        with self._lock:
            self._grants[token] = _Grant(user=user, refresh_token=token)
        return token

    def user_of(self, access_token: str) -> str | None:
        """The user an active access token belongs to (what introspection answers)."""
        with self._lock:
            found = self._access.get(access_token)
            if found is None or found[0].revoked or self.clock() >= found[1]:
                return None
            return found[0].user

    def revoke_access(self, access_token: str) -> None:
        with self._lock:
            self._access.pop(access_token, None)

    def revoke_grants(self) -> None:
        """Revoke every grant and its tokens (the user removed the app's consent)."""
        with self._lock:
            for grant in self._grants.values():
                grant.revoked = True

    def refresh(self, refresh_token: str) -> tuple[str, float, str | None]:
        """(access token, expires_in, new refresh token or None); raises KeyError when the
        refresh token is unknown, rotated away or revoked, ConnectionError when unreachable."""
        with self._lock:
            self.token_requests += 1
            if not self.reachable:
                raise ConnectionError("issuer unreachable")
            grant = self._grants.get(refresh_token)
            if grant is None or grant.revoked or grant.refresh_token != refresh_token:
                raise KeyError("invalid_grant")
            rotated = None
            if self.rotate:
                rotated = _random.token_urlsafe(24)
                del self._grants[refresh_token]
                grant.refresh_token = rotated
                self._grants[rotated] = grant
            access = _random.token_urlsafe(24)
            self._access[access] = (grant, self.clock() + self.expires_in)
            return access, self.expires_in, rotated


class InMemoryTokenProvider(CachedTokenProvider):
    """A :class:`~mailguard_core.ports.TokenProvider` whose grant lives in an
    :class:`InMemoryIssuer`; the refresh token is read from ``secrets`` like the real one."""

    def __init__(
        self,
        account: str,
        issuer: InMemoryIssuer,
        secrets: SecretStore,
        *,
        clock: Callable[[], float] = time.time,
        refresh_margin: float = REFRESH_MARGIN,
    ) -> None:
        self._issuer = issuer
        super().__init__(
            account, secrets, self._refresh_in_memory, clock=clock, refresh_margin=refresh_margin
        )

    def _refresh_in_memory(self, refresh_token: Secret) -> IssuedToken:
        try:
            access, expires_in, rotated = self._issuer.refresh(refresh_token.reveal())
        except KeyError:
            raise GrantRefused(
                f"in-memory issuer: invalid_grant for {self.account!r}",
                public=login_again(self.account),
            ) from None
        except ConnectionError:
            raise ConnectionFailed(
                "in-memory issuer unreachable", public="could not reach the OAuth provider"
            ) from None
        return IssuedToken(
            access_token=Secret(access),
            expires_in=expires_in,
            refresh_token=Secret(rotated) if rotated else None,
        )
