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

The bearer-token verifiers live in :mod:`mailguard_mcp.http_tokens`, the per-session view of
the app in :mod:`mailguard_mcp.http_session`.
"""

from __future__ import annotations

import collections
import dataclasses
import ipaddress
import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import anyio
import mcp.types as types
from mcp.server import Server

from mailguard_core.app.bootstrap import MailguardApp
from mailguard_core.config import Config, ServerSettings
from mailguard_core.gate.principals import Principal, resolve_principal
from mailguard_core.model.errors import ConfigError
from mailguard_mcp import server as mcp_server
from mailguard_mcp.http_session import SessionApp
from mailguard_mcp.http_tokens import IntrospectionVerifier, JwtVerifier

if TYPE_CHECKING:
    from starlette.applications import Starlette

logger = logging.getLogger("mailguard_mcp")

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
PRM_PATH = "/.well-known/oauth-protected-resource"
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
        return mcp_server.build_server(
            self._open_app,
            version=version,
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
        verifier: JwtVerifier | IntrospectionVerifier | None = None
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
