"""``[audit]`` and ``[server]``: the audit log and how the server is reached."""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from mailguard_core.model.checks import (
    Problem,
    at_least_one,
    expand,
    fail,
    host,
    not_negative,
    optional,
    port,
    positive,
    raise_problems,
    url,
    within,
)
from mailguard_core.model.tools import Posture


@attrs.frozen(kw_only=True)
class AuditSettings:
    path: str | None = attrs.field(default=None, converter=expand)
    #: HMAC-key the hash chain with a key from the secret store (entry ``audit-hmac``)
    hmac: bool = False
    rotate_bytes: int = attrs.field(default=50_000_000, validator=at_least_one)
    fsync_tool_records: bool = False


def _algorithms(_instance: object, _attribute: object, names: tuple[str, ...]) -> None:
    if not names or any(a.upper().startswith(("HS", "NONE")) for a in names):
        raise fail("asymmetric algorithms only (no HS*, no none)")


@attrs.frozen(kw_only=True)
class ServerAuthSettings:
    """``[server.auth]``: mailguard as an OAuth 2.1 resource server (signed JWT access tokens,
    or opaque ones checked by RFC 7662 introspection)."""

    issuer: str = attrs.field(validator=url)
    #: the server's own URL as tokens name it in ``aud`` (RFC 8707 resource indicator)
    audience: str = attrs.field(validator=url)
    jwks_url: str | None = attrs.field(default=None, validator=optional(url))
    jwks_file: str | None = attrs.field(default=None, converter=expand)
    #: RFC 7662 endpoint for opaque tokens (instead of a JWKS)
    introspection_url: str | None = attrs.field(default=None, validator=optional(url))
    #: the client mailguard authenticates as at ``introspection_url``
    client_id: str | None = None
    algorithms: tuple[str, ...] = attrs.field(
        default=("RS256", "ES256", "PS256", "EdDSA"), validator=_algorithms
    )
    required_scopes: tuple[str, ...] = ()
    leeway_seconds: int = attrs.field(default=30, validator=within(0, 300))

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        sources = (self.jwks_url, self.jwks_file, self.introspection_url)
        if sum(source is not None for source in sources) != 1:
            problems.append(("", "set exactly one of jwks_url, jwks_file and introspection_url"))
        if self.introspection_url is not None and not self.client_id:
            problems.append(("client_id", "introspection_url needs the client_id"))
        raise_problems(problems)


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

    def __attrs_post_init__(self) -> None:
        raise_problems(self._problems())

    def _problems(self) -> Iterator[Problem]:
        by_subject = self.subject is not None
        by_claim = self.claim is not None and self.value is not None
        if by_subject == by_claim or (self.claim is None) != (self.value is None):
            yield "", "set either subject, or claim and value"
        if not self.accounts:
            yield "accounts", "name at least one account"


def _redis_url(_instance: object, _attribute: object, value: str | None) -> None:
    if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
        raise fail("must start with redis://, rediss:// or unix://")


def _replica(_instance: object, _attribute: object, value: str | None) -> None:
    if value is not None and not (
        0 < len(value) <= 64 and all(c.isascii() and (c.isalnum() or c in "-_.") for c in value)
    ):
        raise fail("1-64 characters of A-Z a-z 0-9 - _ .")


@attrs.frozen(kw_only=True)
class ServerStateSettings:
    """``[server.state]``: where the gate keeps token buckets and circuit breakers."""

    #: ``redis://`` or ``rediss://``: shared by every replica; none: this process's memory
    redis_url: str | None = attrs.field(default=None, validator=_redis_url)
    key_prefix: str = "mailguard:"
    #: this replica's name: the audit file becomes ``<stem>-<replica>.jsonl``
    replica: str | None = attrs.field(default=None, validator=_replica)


def _transport(_instance: object, _attribute: object, value: str) -> None:
    if value not in ("stdio", "http"):
        raise fail('must be "stdio" or "http"')


@attrs.frozen(kw_only=True)
class ServerSettings:
    """``[server]``: how ``mailguard-mcp serve`` is reached (stdio, or streamable HTTP)."""

    transport: str = attrs.field(default="stdio", validator=_transport)
    host: str = attrs.field(default="127.0.0.1", validator=host)
    port: int = attrs.field(default=8765, validator=port)
    #: the URL clients use (behind a proxy); default ``http://host:port``
    public_url: str | None = attrs.field(default=None, validator=optional(url))
    #: extra allowed ``Origin`` values (browser hosts); loopback origins are always allowed
    allowed_origins: tuple[str, ...] = ()
    #: extra allowed ``Host`` header values (the proxy's name); loopback is always allowed
    allowed_hosts: tuple[str, ...] = ()
    max_sessions: int = attrs.field(default=100, validator=at_least_one)
    max_concurrent_calls: int = attrs.field(default=32, validator=at_least_one)
    max_request_bytes: int = attrs.field(default=1_000_000, validator=at_least_one)
    session_idle_seconds: float = attrs.field(default=1800.0, validator=positive)
    shutdown_grace_seconds: float = attrs.field(default=30.0, validator=not_negative)
    auth: ServerAuthSettings | None = None
    principals: tuple[PrincipalSettings, ...] = ()
    state: ServerStateSettings = attrs.Factory(ServerStateSettings)

    def __attrs_post_init__(self) -> None:
        raise_problems(self._principal_problems())

    def _principal_problems(self) -> Iterator[Problem]:
        if self.principals and self.auth is None:
            yield "principals", "principals need [server.auth]"
        seen: set[str] = set()
        for index, principal in enumerate(self.principals):
            if principal.name in seen:
                yield f"principals[{index}].name", "duplicate principal name"
            seen.add(principal.name)
