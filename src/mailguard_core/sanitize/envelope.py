"""The envelope value objects: options in, :class:`SafeMessage` out (``mailguard.envelope/1``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from mailguard_core.ports.detector import InjectionDetector
from mailguard_core.sanitize.warnings import SecurityWarning

SCHEMA = "mailguard.envelope/1"


@attrs.frozen(kw_only=True)
class MimeLimits:
    """Hard limits for MIME parsing. Over a limit: truncate with a warning, or raise.

    ``max_message_bytes`` raises :class:`~mailguard_core.model.errors.MessageTooLarge`; every other
    limit truncates (parts beyond the count or depth are skipped, bodies and the HTML source
    handed to the parser are cut) and adds a ``mime_limit_exceeded`` warning naming it.
    """

    max_message_bytes: int = 50_000_000
    max_headers: int = 1_000
    max_depth: int = 20
    max_parts: int = 500
    max_part_bytes: int = 25_000_000
    max_total_bytes: int = 60_000_000
    #: HTML parts are cut here before parsing (the parse tree costs ~40x the source); Gmail
    #: itself clips HTML at 102 KB, so real mail stays far below this
    max_html_bytes: int = 2_000_000


@attrs.frozen(kw_only=True)
class SanitizeOptions:
    """Where the message comes from and how to sanitize it. Every field has a default."""

    account: str | None = None
    folder: str | None = None
    uid: int | None = None
    uidvalidity: int | None = None
    flags: tuple[str, ...] = ()
    internal_date: dt.datetime | None = None
    include_html: bool = False
    max_body_chars: int = 20_000
    known_domains: tuple[str, ...] = ()
    own_domains: tuple[str, ...] = ()
    #: brands besides the bundled table (``brands.BUNDLED``): (name, registrable domains)
    brands: tuple[tuple[str, tuple[str, ...]], ...] = ()
    trusted_authserv_id: str | None = None
    limits: MimeLimits = MimeLimits()
    detector: InjectionDetector | None = None
    nonce: str | None = None
    #: overrides ``meta.size_bytes`` (e.g. the server's size for a search hit's headers)
    size_bytes: int | None = None


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@attrs.frozen(kw_only=True)
class SafeMessage:
    """A sanitized message: ``meta`` (vouched for), ``untrusted`` (sanitized), warnings."""

    options: SanitizeOptions
    size_bytes: int
    body: dict[str, Any] | None
    provenance: dict[str, Any]
    untrusted: dict[str, Any]
    warnings: tuple[SecurityWarning, ...]

    @property
    def body_text(self) -> str:
        """The sanitized visible body text."""
        return str(self.untrusted.get("body_text", ""))

    @property
    def html(self) -> str | None:
        """The sanitized HTML, when it was asked for."""
        value = self.untrusted.get("html")
        return None if value is None else str(value)

    @property
    def warning_codes(self) -> frozenset[str]:
        """The codes of all warnings."""
        return frozenset(w.code for w in self.warnings)

    def message_ref(self) -> str | None:
        """``account:folder:uidvalidity:uid`` when all four are known."""
        o = self.options
        if o.account is None or o.folder is None or o.uid is None or o.uidvalidity is None:
            return None
        return f"{o.account}:{o.folder}:{o.uidvalidity}:{o.uid}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready envelope, exactly the shape of ``spec/envelope.md``."""
        o = self.options
        meta: dict[str, Any] = {
            "schema": SCHEMA,
            "account": o.account,
            "folder": o.folder,
            "uid": o.uid,
            "uidvalidity": o.uidvalidity,
            "message_ref": self.message_ref(),
            "size_bytes": self.size_bytes,
            "flags": list(o.flags),
            "internal_date": _iso(o.internal_date),
            "body": None if self.body is None else dict(self.body),
            "provenance": self.provenance,
        }
        return {
            "meta": meta,
            "untrusted": dict(self.untrusted),
            "security_warnings": [w.to_dict() for w in self.warnings],
        }
