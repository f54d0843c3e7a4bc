"""``[audit]`` and ``[server]``: the audit log and how the server is reached."""

from __future__ import annotations

import attrs

from mailguard_core.model.tools import Posture


@attrs.frozen(kw_only=True)
class AuditSettings:
    path: str | None = None
    #: HMAC-key the hash chain with a key from the secret store (entry ``audit-hmac``)
    hmac: bool = False
    rotate_bytes: int = 50_000_000
    fsync_tool_records: bool = False


@attrs.frozen(kw_only=True)
class ServerAuthSettings:
    """``[server.auth]``: mailguard as an OAuth 2.1 resource server (signed JWT access tokens,
    or opaque ones checked by RFC 7662 introspection)."""

    issuer: str
    #: the server's own URL as tokens name it in ``aud`` (RFC 8707 resource indicator)
    audience: str
    jwks_url: str | None = None
    jwks_file: str | None = None
    #: RFC 7662 endpoint for opaque tokens (instead of a JWKS)
    introspection_url: str | None = None
    #: the client mailguard authenticates as at ``introspection_url``
    client_id: str | None = None
    algorithms: tuple[str, ...] = ("RS256", "ES256", "PS256", "EdDSA")
    required_scopes: tuple[str, ...] = ()
    leeway_seconds: int = 30


@attrs.frozen(kw_only=True)
class PrincipalSettings:
    """``[[server.principals]]``: who (a token subject, or a claim value) may use which
    accounts, with an optional lower posture ceiling."""

    name: str
    accounts: tuple[str, ...]
    subject: str | None = None
    claim: str | None = None
    value: str | None = None
    posture: Posture | None = None


@attrs.frozen(kw_only=True)
class ServerStateSettings:
    """``[server.state]``: where the gate keeps token buckets and circuit breakers."""

    #: ``redis://`` or ``rediss://``: shared by every replica; none: this process's memory
    redis_url: str | None = None
    key_prefix: str = "mailguard:"
    #: this replica's name: the audit file becomes ``<stem>-<replica>.jsonl``
    replica: str | None = None


@attrs.frozen(kw_only=True)
class ServerSettings:
    """``[server]``: how ``mailguard-mcp serve`` is reached (stdio, or streamable HTTP)."""

    transport: str = "stdio"
    host: str = "127.0.0.1"
    port: int = 8765
    #: the URL clients use (behind a proxy); default ``http://host:port``
    public_url: str | None = None
    #: extra allowed ``Origin`` values (browser hosts); loopback origins are always allowed
    allowed_origins: tuple[str, ...] = ()
    #: extra allowed ``Host`` header values (the proxy's name); loopback is always allowed
    allowed_hosts: tuple[str, ...] = ()
    max_sessions: int = 100
    max_concurrent_calls: int = 32
    max_request_bytes: int = 1_000_000
    session_idle_seconds: float = 1800.0
    shutdown_grace_seconds: float = 30.0
    auth: ServerAuthSettings | None = None
    principals: tuple[PrincipalSettings, ...] = ()
    state: ServerStateSettings = ServerStateSettings()
