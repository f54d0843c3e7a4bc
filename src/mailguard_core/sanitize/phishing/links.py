"""Deceptive link hosts (IP literals, userinfo tricks, shorteners, punycode look-alikes) and
the evidence form of a domain."""

from __future__ import annotations

import functools
import ipaddress
import re
import urllib.parse
from collections.abc import Iterable
from typing import Any

import attrs

from mailguard_core.sanitize import lookalike
from mailguard_core.sanitize.brands import Brand, same_organisation
from mailguard_core.sanitize.phishing.tables import SHORTENERS
from mailguard_core.sanitize.warnings import WarningCollector

_EVIDENCE_RE = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,98}[a-z0-9])?")
_MAX_LINKS = 200


def evidence_domain(domain: str) -> str | None:
    """``domain`` as ASCII evidence for a warning's detail, or None when it is not one."""
    text = domain.strip().strip(".").lower()
    if not text:
        return None
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except (UnicodeError, ValueError):
            return None
    return text if _EVIDENCE_RE.fullmatch(text) and ".." not in text else None


@attrs.frozen
class Href:
    """A link the reader can follow, and the text it is shown with ("" for a bare URL)."""

    href: str
    text: str = ""


def split_url(href: str) -> urllib.parse.SplitResult | None:
    try:
        parts = urllib.parse.urlsplit(href.strip())
        if parts.scheme.lower() not in ("http", "https"):
            return None
        parts.port  # noqa: B018 - raises ValueError on a bad port
        return parts
    except ValueError:
        return None


def url_host(parts: urllib.parse.SplitResult) -> str:
    try:
        return (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


#: one to four dot-separated labels, each ``0x`` + 1-8 hex digits or 1-10 decimal digits
_NUMERIC_HOST_RE = re.compile(
    r"(?:0x[0-9a-f]{1,8}|[0-9]{1,10})(?:\.(?:0x[0-9a-f]{1,8}|[0-9]{1,10})){0,3}"
)


def _numeric_host(host: str) -> bool:
    """A host browsers read as an IPv4 address: dotted, decimal, octal or hex forms."""
    return _NUMERIC_HOST_RE.fullmatch(host) is not None


@functools.lru_cache(maxsize=4096)
def _host_facts(host: str) -> tuple[str, str, bool, tuple[str, str] | None]:
    """What :func:`check_links` needs of a host, computed once per host: (``numeric``,
    ``ip`` or ``name``; the address or the registrable domain; private address or a
    shortener; the (registrable, skeleton) of a punycode look-alike)."""
    address = ip_host(host)
    if address is None and _numeric_host(host):
        return "numeric", host, False, None
    if address is not None:
        private = address.is_private or address.is_loopback or address.is_link_local
        return "ip", str(address), private, None
    reg = lookalike.registrable(host)
    punycode = None
    if lookalike.is_idn(host):
        sk = lookalike.skeleton(reg)
        if sk.isascii() and sk != lookalike.to_unicode(reg):
            punycode = (reg, sk)
    return "name", reg, reg in SHORTENERS or host in SHORTENERS, punycode


def ip_host(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not host or not (host[-1].isdigit() or ":" in host):
        return None  # a name ends in a letter (its TLD); an address in a digit or has ':'
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def related(first: str, second: str, table: tuple[Brand, ...]) -> bool:
    """Registrable domains of one owner: equal, one brand's, or the same name elsewhere."""
    if first == second:
        return True
    if same_organisation(table, first, second) is not None:
        return True
    a, b = first.split(".", 1)[0], second.split(".", 1)[0]
    return len(a) >= 4 and a == b


def check_links(
    links: Iterable[Href], warnings: WarningCollector, location: str = "body"
) -> list[tuple[Href, str]]:
    """Deceptive link hosts; returns each followable link with its registrable domain."""
    out: list[tuple[Href, str]] = []
    seen: set[str] = set()
    ip_public: list[str] = []
    ip_private: list[str] = []
    userinfo: list[tuple[str | None, str | None]] = []
    shorteners: list[str] = []
    punycode: list[tuple[str, str]] = []
    for link in links:
        if len(seen) >= _MAX_LINKS:
            break
        key = link.href.strip()
        if key in seen:
            continue  # only a link that passed the checks below is in ``seen``
        parts = split_url(link.href)
        if parts is None:
            continue
        host = url_host(parts)
        if not host or len(host) > 253:
            continue  # no host, or not a host name at all (DNS names end at 253)
        seen.add(key)
        kind, name, flag, lookalike_pair = _host_facts(host)
        if kind == "numeric":
            ip_public.append("numeric")
            out.append((link, host))
            continue
        if kind == "ip":
            (ip_private if flag else ip_public).append(name)
            out.append((link, host))
            continue
        reg = name
        if "@" in parts.netloc:
            shown = parts.netloc.rsplit("@", 1)[0]
            userinfo.append((evidence_domain(shown.split(":", 1)[0]), evidence_domain(reg)))
        if flag:
            shorteners.append(reg)
        if lookalike_pair is not None:
            punycode.append(lookalike_pair)
        out.append((link, reg))
    if ip_public:
        detail: dict[str, Any] = {"count": len(ip_public)}
        first = next((ip for ip in ip_public if ip != "numeric"), None)
        if first:
            detail["ip"] = first
        if "numeric" in ip_public:
            detail["reason"] = "numeric_host"
        warnings.add("link_ip_literal", location, detail)
    if ip_private:
        warnings.add(
            "link_ip_literal", location,
            {"count": len(ip_private), "ip": ip_private[0], "private": True},
            severity="informational",
        )  # fmt: skip
    if userinfo:
        shown_domain, real = userinfo[0]
        detail = {"count": len(userinfo)}
        if shown_domain:
            detail["shown_domain"] = shown_domain
        if real:
            detail["real_domain"] = real
        warnings.add("link_userinfo_trick", location, detail)
    if shorteners:
        warnings.add(
            "link_shortener", location,
            {"count": len(shorteners), "real_domain": evidence_domain(shorteners[0]) or ""},
        )  # fmt: skip
    if punycode:
        reg, sk = punycode[0]
        detail = {"count": len(punycode)}
        looks_like = evidence_domain(sk)
        if looks_like:  # a host urlsplit accepts with a space in it has no domain evidence
            detail["looks_like"] = looks_like
        real = evidence_domain(reg)
        if real:
            detail["real_domain"] = real
        warnings.add("link_punycode_lookalike", location, detail)
    return out
