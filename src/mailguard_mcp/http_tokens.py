"""The bearer-token check of ``serve --http`` (:mod:`mailguard_mcp.http`): the SDK's
``TokenVerifier`` over signed JWTs (``joserfc``, against a JWKS) or over RFC 7662 token
introspection (authlib's client). A token becomes an ``AccessToken`` only when its claims
verify and it maps to a principal; anything else is refused (fail closed).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import anyio
from mcp.server.auth.provider import AccessToken

from mailguard_core.config import ServerAuthSettings
from mailguard_core.gate.principals import Principal

logger = logging.getLogger("mailguard_mcp")

#: the least time between two JWKS downloads (a token naming an unknown key asks again)
JWKS_REFRESH_SECONDS = 60.0
#: after a failed JWKS download, tokens are refused without trying again for this long
JWKS_RETRY_SECONDS = 5.0
#: seconds an introspection request may take (then the token is refused)
INTROSPECTION_TIMEOUT = 5.0
#: the secret-store entry of the introspection client's secret
INTROSPECTION_SECRET = "server-introspection"
#: longer bearer tokens are refused unread
MAX_TOKEN_CHARS = 16_384


class _Verifier:
    """The SDK's ``TokenVerifier`` over :meth:`claims` (blocking, run in a worker thread).

    A token whose claims verify and that maps to a principal becomes an ``AccessToken`` (its
    scopes included, so that the SDK answers a token lacking a ``required_scopes`` entry with
    403 ``insufficient_scope``); anything else is ``None``: the SDK answers 401
    ``invalid_token``.
    """

    def __init__(
        self,
        auth: ServerAuthSettings,
        principals: Callable[[Mapping[str, Any]], Principal | None],
    ) -> None:
        self._auth = auth
        self._principals = principals

    def claims(self, token: str) -> dict[str, Any] | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _registry(self) -> Any:
        from joserfc import jwt

        auth = self._auth
        return jwt.JWTClaimsRegistry(
            leeway=auth.leeway_seconds,
            iss={"essential": True, "value": auth.issuer},
            aud={"essential": True, "value": auth.audience},
            exp={"essential": True},
            sub={"essential": True},
        )

    async def verify_token(self, token: str) -> AccessToken | None:
        if len(token) > MAX_TOKEN_CHARS:
            return None
        claims = await anyio.to_thread.run_sync(self.claims, token)
        if claims is None:
            return None
        if self._principals(claims) is None:
            logger.info("bearer token refused: subject %r maps to no principal", claims.get("sub"))
            return None
        exp = claims.get("exp")
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id") or claims.get("azp") or ""),
            scopes=_scopes(claims),
            expires_at=int(exp) if isinstance(exp, int | float) else None,
            resource=self._auth.audience,
            subject=str(claims["sub"]),
            claims=claims,
        )


class JwtVerifier(_Verifier):
    """Signed JWT access tokens, checked with ``joserfc``.

    A token is accepted when its signature verifies against a key of the JWKS (asymmetric
    algorithms of ``algorithms`` only), ``iss`` is the issuer, ``aud`` names the audience,
    ``exp`` is in the future and ``nbf``/``iat`` are not (within ``leeway_seconds``), it has a
    ``sub``, and (with principals configured) it maps to a principal.

    ``jwks_url``: the key set is downloaded at the first token; a token naming a key id the
    set lacks (the issuer rotated its keys) downloads it again, at most once every
    :data:`JWKS_REFRESH_SECONDS`; a download that fails refuses the token (fail closed) and
    is not tried again for :data:`JWKS_RETRY_SECONDS` (a flood of tokens never becomes a
    flood of downloads). The last good key set stays in use when a refresh fails.
    """

    def __init__(
        self,
        auth: ServerAuthSettings,
        principals: Callable[[Mapping[str, Any]], Principal | None],
        *,
        fetch: Callable[[str], bytes] | None = None,
    ) -> None:
        super().__init__(auth, principals)
        self._fetch = fetch or _fetch_url
        self._lock = threading.Lock()
        self._keys: Any = None
        self._refreshed_at = -JWKS_REFRESH_SECONDS
        self._failed_at = -JWKS_RETRY_SECONDS

    def _load(self, force: bool = False) -> Any:
        """The key set; ``force``: the token names a key it lacks (download again if due).

        Raises:
            OSError, ValueError: the JWKS cannot be read (or was not tried: a recent failure).
        """
        from joserfc.jwk import KeySet

        with self._lock:
            now = time.monotonic()
            refresh = force and now - self._refreshed_at >= JWKS_REFRESH_SECONDS
            if self._keys is not None and not (refresh and self._auth.jwks_url):
                return self._keys
            if self._auth.jwks_file is not None:
                raw = Path(self._auth.jwks_file).read_bytes()
            else:
                assert self._auth.jwks_url is not None
                if now - self._failed_at < JWKS_RETRY_SECONDS:
                    if self._keys is not None:
                        return self._keys
                    raise OSError("the JWKS download failed moments ago")
                if refresh:
                    self._refreshed_at = now
                try:
                    raw = self._fetch(self._auth.jwks_url)
                    keys = KeySet.import_key_set(json.loads(raw))
                except Exception as exc:
                    self._failed_at = now
                    logger.warning("JWKS download failed: %s", str(exc)[:200])
                    if self._keys is not None:
                        return self._keys
                    raise OSError(f"JWKS download failed: {type(exc).__name__}") from exc
                self._keys = keys
                return keys
            self._keys = KeySet.import_key_set(json.loads(raw))
            return self._keys

    def claims(self, token: str) -> dict[str, Any] | None:
        """The verified claims of ``token``, or ``None``. Blocks (may download the JWKS)."""
        from joserfc import jwt
        from joserfc.errors import InvalidKeyIdError, JoseError

        algorithms = list(self._auth.algorithms)
        try:
            try:
                decoded = jwt.decode(token, self._load(), algorithms=algorithms)
            except InvalidKeyIdError:
                if not self._auth.jwks_url:
                    raise
                decoded = jwt.decode(token, self._load(force=True), algorithms=algorithms)
            self._registry().validate(decoded.claims)
        except (JoseError, ValueError, TypeError, OSError) as exc:
            logger.info("bearer token refused: %s", str(exc)[:200])
            return None
        return dict(decoded.claims)


class IntrospectionVerifier(_Verifier):
    """Opaque access tokens, asked about at the issuer's RFC 7662 introspection endpoint.

    Each token is POSTed to ``introspection_url`` with authlib's OAuth 2.0 client
    (``introspect_token``, client authentication ``client_secret_basic`` with ``client_id``
    and the secret store's ``server-introspection`` entry), and accepted only when the answer
    is HTTP 200 with ``"active": true`` (authlib's ``IntrospectTokenValidator``) and the same
    claims a JWT must carry: ``iss`` the issuer, ``aud`` naming the audience, ``exp`` in the
    future, a ``sub``. An endpoint that cannot be reached, answers anything else or times
    out (``INTROSPECTION_TIMEOUT`` seconds) refuses the token: fail closed. Answers are not
    cached (a revoked token stops working at once).
    """

    def __init__(
        self,
        auth: ServerAuthSettings,
        principals: Callable[[Mapping[str, Any]], Principal | None],
        *,
        client_secret: Callable[[], str | None] | None = None,
    ) -> None:
        super().__init__(auth, principals)
        self._client_secret = client_secret or _introspection_secret
        self._secret: str | None = None
        self._lock = threading.Lock()

    def _secret_value(self) -> str | None:
        with self._lock:
            if self._secret is None:
                self._secret = self._client_secret()
            return self._secret

    def claims(self, token: str) -> dict[str, Any] | None:
        from joserfc.errors import JoseError

        from mailguard_core.app.commands import IntrospectionRefused, introspect

        url = self._auth.introspection_url
        assert url is not None
        try:
            claims = introspect(
                url,
                token,
                client_id=self._auth.client_id,
                client_secret=self._secret_value(),
                timeout=INTROSPECTION_TIMEOUT,
            )
            self._registry().validate(claims)
        except (IntrospectionRefused, JoseError) as exc:
            logger.info("bearer token refused: %s", str(exc)[:200])
            return None
        except Exception as exc:  # unreachable, timed out, a bad answer: fail closed
            logger.warning("token introspection failed: %s: %s", type(exc).__name__, exc)
            return None
        return claims


def _introspection_secret() -> str | None:
    """The introspection client's secret: the secret store's ``server-introspection`` entry
    (``MAILGUARD_SERVER_INTROSPECTION_PASSWORD``), or None (a public client)."""
    from mailguard_core.app.bootstrap import default_secrets
    from mailguard_core.model.errors import MailguardError

    try:
        return default_secrets().get(INTROSPECTION_SECRET).reveal()
    except MailguardError:
        return None


def _scopes(claims: Mapping[str, Any]) -> list[str]:
    raw = claims.get("scope", claims.get("scp", ""))
    if isinstance(raw, str):
        return raw.split()
    if isinstance(raw, list):
        return [s for s in raw if isinstance(s, str)]
    return []


def _fetch_url(url: str) -> bytes:
    import requests

    response = requests.get(url, timeout=10, allow_redirects=False)
    response.raise_for_status()
    if len(response.content) > 1_000_000:
        raise ValueError("JWKS document too large")
    return response.content
