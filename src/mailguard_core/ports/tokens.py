"""The ``TokenProvider`` port: OAuth2 access tokens for one account's sign-in."""

from __future__ import annotations

from typing import Protocol

from mailguard_core.ports.secrets import Secret


class TokenProvider(Protocol):
    """Bearer access tokens from one account's OAuth2 grant (its stored refresh token).

    Contract, checked by ``tests/contract/test_token_provider_contract.py``:

    - ``access_token`` returns a non-empty token the provider's servers accept. It is cached
      in memory only and returned again, without asking the provider, until it is within
      ``refresh_margin`` seconds of its expiry; then a new one is obtained.
    - ``invalidate(token)`` (a server rejected ``token``) makes the next ``access_token``
      obtain a new one, unless a newer token than ``token`` is already cached.
    - When the provider issues a new refresh token (rotation), it is written to the secret
      store before ``access_token`` returns; the old one is never used again.
    - A grant the provider refuses (revoked, expired, or a refresh token it does not know)
      raises ``AuthenticationFailed`` whose public message tells the user to run
      ``mailguard-mcp login ACCOUNT``; no stored refresh token raises ``SecretUnavailable``
      with the same advice. A provider that cannot be reached raises ``ConnectionFailed``
      (or ``OperationTimeout``); any other bad answer raises ``ProtocolError``.
    - No error text, log line or ``repr`` contains a token or a client secret.
    - Only ``MailguardError`` subclasses escape. Safe to call from several threads.
    """

    @property
    def account(self) -> str: ...

    def access_token(self) -> Secret: ...

    def invalidate(self, token: Secret) -> None: ...
