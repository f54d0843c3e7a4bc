"""Sender identity and link checks: look-alike domains, display-name spoofing, Reply-To."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Sequence
from typing import Any

from mailguard_core.sanitize import brands, lookalike, phishing
from mailguard_core.sanitize.html import Link
from mailguard_core.sanitize.text_addresses import blank_addresses, find_addresses
from mailguard_core.sanitize.warnings import WarningCollector

_MAX_DOMAINS = 100
#: a host name as a warning's detail may carry it: word characters, dots and hyphens only
_HOST_RE = re.compile(r"[\w-]{1,63}(?:\.[\w-]{1,63}){0,30}")
#: deceptive links described one by one in the warning (the count covers all of them)
_MAX_LINKS_SHOWN = 10
#: longer host names are shown as "?" (warning details are short tokens)
_MAX_HOST = 100
#: security gateways that rewrite every link; their href embeds the original URL
_URL_REWRITERS = frozenset(
    {
        "proofpoint.com", "urldefense.com", "outlook.com", "mimecast.com", "cudasvc.com",
        "trendmicro.com", "fireeye.com", "barracudanetworks.com",
    }
)  # fmt: skip


def _domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip().strip(">").lower() if "@" in address else ""


#: ``http(s)://`` and a plain host name up to the path, query, fragment or end: the form
#: ``urlsplit(...).hostname`` reads as the host lower-cased (no userinfo, port, brackets,
#: percent escapes or characters urlsplit removes or normalizes)
_PLAIN_HREF_RE = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://([A-Za-z0-9.-]+)(?:[/?#][^\t\r\n]*)?")


def _host(href: str) -> str | None:
    """:func:`_urlsplit_host`, read with one regex when the link is in the plain form."""
    plain = _PLAIN_HREF_RE.fullmatch(href.strip())
    if plain is not None:
        return plain.group(1).lower()
    return _urlsplit_host(href)


def _urlsplit_host(href: str) -> str | None:
    """``urlsplit(href.strip()).hostname`` of an http(s) link, else None."""
    try:
        parts = urllib.parse.urlsplit(href.strip())
        if parts.scheme.lower() not in ("http", "https"):
            return None
        return parts.hostname
    except ValueError:
        return None


def check_domain(
    domain: str, kind: str, known: tuple[str, ...], warnings: WarningCollector
) -> None:
    """Punycode, mixed-script and confusable checks on one domain."""
    if not domain:
        return
    location = f"domain:{kind}"
    if lookalike.is_idn(domain):
        warnings.count("lookalike_punycode_domain", location, 1)
    if lookalike.is_mixed_script(domain):
        warnings.count("lookalike_mixed_script_domain", location, 1)
    resembles = lookalike.confusable_with(domain, known)
    if resembles is not None:
        warnings.add("lookalike_confusable_domain", location, {"resembles": resembles})


def check_identity(
    sender: dict[str, str] | None,
    reply_to: Sequence[dict[str, str]],
    list_domains: Sequence[str],
    recipients: Sequence[str],
    known: tuple[str, ...],
    warnings: WarningCollector,
    brand_table: tuple[brands.Brand, ...] = brands.BUNDLED,
) -> None:
    """Checks on From and Reply-To (the Reply-To rule: see :func:`_reply_to_relation`)."""
    if sender is None:
        return
    address = sender["address"].lower()
    domain = _domain_of(address)
    check_domain(domain, "from", known, warnings)
    sender_reg = lookalike.registrable(domain) if domain else ""
    name = sender["name"]
    if name:
        reasons = set()
        claimed: list[str] = []
        for other in find_addresses(name):
            if other.lower() != address:
                reasons.add("address_in_name")
                claimed.append(_domain_of(other))
        for token in lookalike.domains_in(blank_addresses(name)):
            if lookalike.registrable(token) != sender_reg:
                reasons.add("domain_in_name")
                claimed.append(token)
        if reasons:
            spoof = {
                "reasons": sorted(reasons),
                # the domains the name claims and the one the address really is at
                "claimed": sorted({_shown_domain(d) for d in claimed})[:5],
                "real_domain": _shown_domain(sender_reg) if sender_reg else "?",
            }
            warnings.add("display_name_spoof", "header:from", spoof)
    list_regs = {lookalike.registrable(d) for d in list_domains if d}
    recipients = [r.lower() for r in recipients]
    unrelated: list[str] = []
    related: list[tuple[str, str]] = []
    for entry in reply_to[:20]:
        rdomain = _domain_of(entry["address"])
        if not rdomain:
            continue
        check_domain(rdomain, "reply_to", known, warnings)
        reg = lookalike.registrable(rdomain)
        if entry["address"].lower() in recipients:
            continue  # a list or group that asks for replies to itself
        if not sender_reg or reg == sender_reg or reg in list_regs:
            continue
        reason = _reply_to_relation(sender_reg, reg, brand_table)
        if reason is None:
            unrelated.append(reg)
        else:
            related.append((reg, reason))
    if unrelated:
        detail: dict[str, Any] = {"count": len(unrelated) + len(related)}
        _put_domain(detail, "reply_to_domain", unrelated[0])
        _put_domain(detail, "sender_domain", sender_reg)
        warnings.add("reply_to_mismatch", "header:reply-to", detail)
    elif related:
        detail = {"count": len(related), "reason": related[0][1]}
        _put_domain(detail, "reply_to_domain", related[0][0])
        _put_domain(detail, "sender_domain", sender_reg)
        warnings.add("reply_to_mismatch", "header:reply-to", detail, severity="informational")


def _put_domain(detail: dict[str, Any], key: str, domain: str) -> None:
    value = phishing.evidence_domain(domain)
    if value:
        detail[key] = value


def _reply_to_relation(
    sender_reg: str, reply_reg: str, brand_table: tuple[brands.Brand, ...]
) -> str | None:
    """Why a Reply-To on another registrable domain is still the sender's, or None.

    ``same_organisation``: one brand of the table owns both (google.com, gmail.com);
    ``same_name``: the same name under another suffix (example.com, example.co.uk), unless
    the name is a brand's that does not own the other domain; ``mail_provider``: a help
    desk, CRM or bulk-mail service that takes replies for its customers. Free mail is never
    a mail provider here: anyone can have an address there.
    """
    if brands.same_organisation(brand_table, sender_reg, reply_reg) is not None:
        return "same_organisation"
    if reply_reg in phishing.FREEMAIL:
        return None
    sender_name, reply_name = sender_reg.split(".", 1)[0], reply_reg.split(".", 1)[0]
    if (
        len(sender_name) >= 3
        and sender_name == reply_name
        and brands.owners(brand_table, sender_reg) == brands.owners(brand_table, reply_reg)
    ):
        return "same_name"
    if reply_reg in phishing.MAIL_PROVIDERS:
        return "mail_provider"
    return None


def _shown_domain(domain: str) -> str:
    """A domain for a warning's detail: as it is when it is a plain host name, else its
    ``xn--`` (IDNA) form, else ``"?"``; never text that could carry markup or line breaks."""
    if len(domain) <= _MAX_HOST and _HOST_RE.fullmatch(domain) and domain.isprintable():
        return domain
    try:
        ascii_form = domain[: _MAX_HOST * 2].encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        return "?"
    ok = len(ascii_form) <= _MAX_HOST and _HOST_RE.fullmatch(ascii_form)
    return ascii_form if ok else "?"


def check_links(links: Sequence[Link], known: tuple[str, ...], warnings: WarningCollector) -> None:
    """Link text naming another domain than its href; look-alike checks on link hosts.

    ``html_link_text_mismatch`` carries ``count`` (all deceptive links) and ``links``: for up
    to ten distinct ones, ``shown`` (the first domain the link text names that is not where
    the link goes) and ``real_domain`` (the registrable domain of the href), both plain host
    names (see :func:`_shown_domain`), so a reader can be told where the link really goes.
    """
    seen: set[str] = set()
    mismatches = 0
    described: list[dict[str, str]] = []
    for link in links:
        host = _host(link.href)
        if host is None:
            continue
        host = host.lower()
        if host not in seen and len(seen) < _MAX_DOMAINS:
            seen.add(host)
            check_domain(host, "link", known, warnings)
        if "." not in link.text:
            continue
        href_reg = lookalike.registrable(host)
        shown = lookalike.domains_in(blank_addresses(link.text[:500]))
        wrapped = urllib.parse.unquote(link.href).lower() if href_reg in _URL_REWRITERS else ""
        lying = [
            d
            for d in shown[:5]
            if lookalike.registrable(d) != href_reg and not (wrapped and d in wrapped)
        ]
        if lying:
            mismatches += 1
            entry = {"shown": _shown_domain(lying[0]), "real_domain": _shown_domain(href_reg)}
            if entry not in described and len(described) < _MAX_LINKS_SHOWN:
                described.append(entry)
    if mismatches:
        warnings.add(
            "html_link_text_mismatch", "body:html", {"count": mismatches, "links": described}
        )


def sender_summary(untrusted: dict[str, Any]) -> dict[str, str] | None:
    """The From entry of an untrusted dict, if any."""
    value = untrusted.get("from")
    return value if isinstance(value, dict) else None
