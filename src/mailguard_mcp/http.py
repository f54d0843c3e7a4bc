"""``mailguard-mcp serve --http``: the same tools, gate and audit over the SDK's streamable HTTP.

One process serves many sessions from one :class:`~mailguard_core.app.bootstrap.MailguardApp`
(one gate, one audit log, one connection per account). Each request sees a per-session view of it
(:class:`SessionApp`): its own active account and, with ``[server.auth]``, only the accounts
of the caller's principal.

What this module adds to the SDK's transport:

- binds to loopback by default, and refuses a non-loopback bind without ``[server.auth]``;
- ``Host`` and ``Origin`` validation (DNS-rebinding protection) on every request, loopback
  plus the configured ``allowed_hosts`` / ``allowed_origins``;
- bounded request bodies, sessions (and their idle time) and concurrent tool calls;
- bearer tokens: signed JWTs checked with ``joserfc`` (issuer, audience, expiry, signature
  against the JWKS of ``jwks_url`` or ``jwks_file``), or opaque tokens asked about at the
  issuer's RFC 7662 ``introspection_url`` (authlib's client); 401 with ``WWW-Authenticate``
  naming the Protected Resource Metadata (RFC 9728), served at
  ``/.well-known/oauth-protected-resource`` and at the path-inserted URL the SDK uses; a
  valid token lacking a ``required_scopes`` entry gets the SDK's 403 ``insufficient_scope``;
- graceful shutdown: on SIGTERM/SIGINT uvicorn stops accepting, lets in-flight requests finish
  (up to ``shutdown_grace_seconds``), then closes the app (mail stores, audit log).
"""

from __future__ import annotations

import collections
import dataclasses
import ipaddress
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractContextManager, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import anyio
import attrs
import mcp.types as types
from mcp.server import Server
from mcp.server.auth.provider import AccessToken

from mailguard_core.app.bootstrap import MailguardApp
from mailguard_core.config import Config, ServerAuthSettings, ServerSettings
from mailguard_core.gate.principals import Principal, resolve_principal
from mailguard_core.model.errors import ConfigError, InputError
from mailguard_core.model.tools import ToolName
from mailguard_mcp import server as mcp_server

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from mailguard_core.gate import Gate, GateCall, ToolRequest

logger = logging.getLogger("mailguard_mcp")

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
PRM_PATH = "/.well-known/oauth-protected-resource"
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
#: sessions (or principals) whose active account is remembered, least recently used dropped
ACTIVE_MEMORY = 10_000


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_bind(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[V6]:PORT`` or ``:PORT`` (loopback).

    Raises:
        ConfigError: not of that form.
    """
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--http {text!r}", public="--http wants HOST:PORT (e.g. 127.0.0.1:8765)")
    return (host.strip("[]") or "127.0.0.1"), int(port)


def check_bind(settings: ServerSettings) -> None:
    """Refuse a non-loopback bind without authentication.

    Raises:
        ConfigError: ``host`` is not loopback and ``[server.auth]`` is not configured.
    """
    if not is_loopback(settings.host) and settings.auth is None:
        raise ConfigError(
            f"server.host {settings.host!r} without [server.auth]",
            public=(
                f"refusing to serve HTTP on {settings.host} without [server.auth]: anyone who "
                "reaches the port could read the mailboxes (bind to 127.0.0.1, or configure auth)"
            ),
        )


def public_url(settings: ServerSettings) -> str:
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}"


# ---------------------------------------------------------------- tokens
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

        from mailguard_core.adapters.token_introspection import IntrospectionRefused, introspect

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


# ---------------------------------------------------------------- per-session view
class _PrincipalGate:
    """The shared gate, with the caller's principal in every request it admits."""

    def __init__(self, gate: Gate, principal: Principal) -> None:
        self._gate = gate
        self._principal = principal

    def admit(self, request: ToolRequest) -> GateCall:
        return self._gate.admit(attrs.evolve(request, principal=self._principal))

    def allowed_tools(self, account: str) -> frozenset[ToolName]:
        tools = self._gate.allowed_tools(account)
        if not self._principal.may_use(account):
            return frozenset(t for t in tools if self._principal.may_call(t, None))
        return frozenset(t for t in tools if self._principal.may_call(t, account))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gate, name)


class SessionApp(MailguardApp):
    """One request's view of the shared app: the session's active account, and with a
    principal only its accounts (others are absent from ``config.accounts`` and refused by
    :meth:`account` exactly like unknown names, and by the gate)."""

    def __init__(self, base: MailguardApp, principal: Principal | None, active: str | None):
        # share everything (services, locks, gate, audit); never build or close anything here
        self.__dict__.update(base.__dict__)
        self.principal = principal
        if principal is not None:
            accounts = tuple(a for a in base.config.accounts if principal.may_use(a.name))
            self.config = attrs.evolve(base.config, accounts=accounts)
            self.gate = cast("Gate", _PrincipalGate(base.gate, principal))
        names = [a.name for a in self.config.accounts]
        default = base.config.default_account
        self.active = (
            active
            if active in names
            else default
            if default in names
            else names[0]
            if names
            else ""
        )

    def account(self, name: str) -> Any:
        if self.principal is not None and not self.principal.may_use(name):
            raise InputError(
                f"unknown account {name!r} (outside principal {self.principal.name[:80]})",
                public="no such account; see list_accounts",
            )
        return super().account(name)

    def has_account(self, name: str) -> bool:
        return super().has_account(name) and (
            self.principal is None or self.principal.may_use(name)
        )

    def close(self) -> None:  # pragma: no cover - the shared app is closed by the lifespan
        raise AssertionError("a session view is never closed")


class HttpServer:
    """The low-level MCP server over one shared app, with per-session views."""

    def __init__(
        self, config: Config, open_app: Callable[[], AbstractContextManager[MailguardApp]]
    ):
        self.config = config
        self._open_app = open_app
        settings = config.server
        self._limiter = anyio.CapacityLimiter(settings.max_concurrent_calls)
        self._active: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._principals = list(settings.principals)
        self._all_accounts = {a.name: None for a in config.accounts}

    def principal(self, claims: Mapping[str, Any]) -> Principal | None:
        """The caller's principal: by ``[[server.principals]]``; with none configured every
        authenticated subject may use every account."""
        if not self._principals:
            subject = str(claims.get("sub", ""))[:64]
            return Principal(name=subject or "?", ceilings=dict(self._all_accounts))
        return resolve_principal(self._principals, claims)

    @staticmethod
    def _session_key(ctx: mcp_server.Ctx, principal: Principal | None) -> str:
        """Whose active account this request uses: the ``Mcp-Session-Id`` of a 2025-era
        session; on the stateless 2026-07-28 protocol (no sessions) the principal's."""
        headers = getattr(ctx.request, "headers", None)
        session = headers.get("mcp-session-id") if headers is not None else None
        if isinstance(session, str) and session:
            return f"session:{session[:128]}"
        return f"principal:{principal.name if principal is not None else ''}"

    def _remember(self, key: str, active: str) -> None:
        self._active[key] = active
        self._active.move_to_end(key)
        while len(self._active) > ACTIVE_MEMORY:
            self._active.popitem(last=False)

    def _view(self, ctx: mcp_server.Ctx) -> tuple[SessionApp, str]:
        principal = None
        if self.config.server.auth is not None:
            user = getattr(ctx.request, "user", None)
            token = getattr(user, "access_token", None)
            claims = getattr(token, "claims", None)
            principal = self.principal(claims) if isinstance(claims, Mapping) else None
            if principal is None:  # the SDK admitted no token: never serve without one
                principal = Principal(name="(none)", ceilings={})
        key = self._session_key(ctx, principal)
        return SessionApp(ctx.lifespan_context, principal, self._active.get(key)), key

    async def call_tool(
        self, ctx: mcp_server.Ctx, params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        view, key = self._view(ctx)
        async with self._limiter:
            result = await mcp_server.call_tool(
                dataclasses.replace(ctx, lifespan_context=view), params
            )
        if view.active:
            self._remember(key, view.active)
        return result

    async def list_tools(
        self, ctx: mcp_server.Ctx, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        view, _ = self._view(ctx)
        if not view.active:
            return types.ListToolsResult(tools=[])
        return await mcp_server.list_tools(dataclasses.replace(ctx, lifespan_context=view), params)

    def build(self, *, version: str = "") -> Server[MailguardApp]:
        open_app = self._open_app

        @asynccontextmanager
        async def lifespan(_: Server[MailguardApp]) -> AsyncIterator[MailguardApp]:
            manager = open_app()
            app = manager.__enter__()
            try:
                yield app
            finally:
                await anyio.to_thread.run_sync(manager.__exit__, None, None, None)

        return Server(
            mcp_server.SERVER_NAME,
            version=version,
            instructions=mcp_server.INSTRUCTIONS,
            lifespan=lifespan,
            on_list_tools=self.list_tools,
            on_call_tool=self.call_tool,
        )

    def asgi_app(self, *, version: str = "") -> Starlette:
        """The Starlette app: ``/mcp`` (behind the bearer check with auth) and the metadata."""
        from mcp.server.auth.settings import AuthSettings
        from mcp.server.transport_security import TransportSecuritySettings
        from starlette.requests import Request
        from starlette.responses import JSONResponse, Response
        from starlette.routing import Route

        settings = self.config.server
        check_bind(settings)
        url = public_url(settings)
        hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", *settings.allowed_hosts]
        origins = [
            "http://127.0.0.1:*",
            "http://localhost:*",
            "http://[::1]:*",
            *settings.allowed_origins,
        ]
        if settings.public_url:
            from urllib.parse import urlsplit

            parts = urlsplit(settings.public_url)
            hosts.append(parts.netloc)
            origins.append(f"{parts.scheme}://{parts.netloc}")
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
        )
        server = self.build(version=version)
        routes: list[Route] = []
        auth = None
        verifier: _Verifier | None = None
        if settings.auth is not None:
            a = settings.auth
            auth = AuthSettings(
                issuer_url=a.issuer,  # type: ignore[arg-type]
                resource_server_url=a.audience,  # type: ignore[arg-type]
                required_scopes=list(a.required_scopes) or None,
                validate_token_resource=True,
            )
            verifier = (
                IntrospectionVerifier(a, self.principal)
                if a.introspection_url is not None
                else JwtVerifier(a, self.principal)
            )
            metadata = {
                "resource": a.audience,
                "authorization_servers": [a.issuer],
                "bearer_methods_supported": ["header"],
                **({"scopes_supported": list(a.required_scopes)} if a.required_scopes else {}),
            }

            async def prm(_: Request) -> Response:
                return JSONResponse(metadata, headers={"Cache-Control": "public, max-age=3600"})

            routes.append(Route(PRM_PATH, prm, methods=["GET"]))
        logger.info("serving MCP over HTTP at %s/mcp", url)
        return server.streamable_http_app(
            streamable_http_path="/mcp",
            max_request_body_size=settings.max_request_bytes,
            session_idle_timeout=settings.session_idle_seconds,
            max_sessions=settings.max_sessions,
            transport_security=security,
            host=settings.host,
            auth=auth,
            token_verifier=verifier,
            custom_starlette_routes=routes,
        )


def serve_http(
    config: Config,
    open_app: Callable[[], AbstractContextManager[MailguardApp]],
    *,
    version: str = "",
) -> None:
    """Serve until SIGTERM/SIGINT, then finish in-flight requests and close the app.

    Raises:
        ConfigError: a non-loopback bind without ``[server.auth]``.
    """
    import uvicorn

    settings = config.server
    app = HttpServer(config, open_app).asgi_app(version=version)
    uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
            limit_concurrency=settings.max_sessions + settings.max_concurrent_calls + 16,
            h11_max_incomplete_event_size=64 * 1024,
            server_header=False,
        )
    ).run()
