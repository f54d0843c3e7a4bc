"""Signals read from the message's content: brand impersonation, credential-harvest links,
attached local pages, urgency and payment-change language."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from mailguard_core.sanitize import lookalike
from mailguard_core.sanitize.anchors import Anchors, anchors, find_anchored, fold
from mailguard_core.sanitize.brands import Brand, named_brands, owners, owns
from mailguard_core.sanitize.phishing.links import (
    Href,
    evidence_domain,
    ip_host,
    related,
    split_url,
    url_host,
)
from mailguard_core.sanitize.phishing.tables import (
    ACCOUNT_CONTEXT_RE,
    COMPANIONS,
    CTA,
    HTML_EXT,
    HTML_TYPES,
    MAIL_PROVIDERS,
    PAGE_FEATURES,
    PAGE_SCAN_BYTES,
    PAYMENT_CHANGE_RE,
    REDIRECTORS,
    URGENCY_RE,
    USER_CONTENT,
)
from mailguard_core.sanitize.warnings import WarningCollector

_WINDOW = 200


def is_page(filename: str, content_type: str) -> bool:
    """True for an attachment an HTML engine would open: HTML, SVG, web archives."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return ext in HTML_EXT or content_type.lower() in HTML_TYPES


def page_features(data: bytes) -> list[str]:
    """What makes an attached page active: a form, a password field, script, a redirect."""
    sample = data[:PAGE_SCAN_BYTES]
    return [name for name, rx in PAGE_FEATURES if rx.search(sample)]


def check_attachments(
    attachments: Sequence[dict[str, Any]],
    warnings: WarningCollector,
    features: dict[str, list[str]] | None = None,
) -> None:
    """HTML, SVG and web-archive attachments: the classic local phishing page.

    Adversarial when the page is an attachment (not an inline part of the message) and has
    a form, a password field, script or a redirect (``features``, by part id); otherwise
    informational: a saved web page or an SVG logo is ordinary.
    """
    features = features or {}
    for item in attachments[:100]:
        name = str(item.get("filename", ""))
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        ctype = str(item.get("content_type", "")).lower()
        if not is_page(name, ctype):
            continue
        found = features.get(str(item.get("part_id", "")), [])
        detail: dict[str, Any] = {"content_type": ctype[:100], "extension": ext[:10]}
        if found:
            detail["features"] = found
        active = bool(found) and not item.get("inline")
        severity: Any = None if active else "informational"
        warnings.add("attachment_html_page", f"attachment:{item.get('part_id', '')}", detail,
                     severity=severity)  # fmt: skip


def _heading(body_text: str) -> str:
    for line in body_text[:3_000].splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def check_brand(
    sender: dict[str, str] | None,
    subject: str,
    body_text: str,
    table: tuple[Brand, ...],
    warnings: WarningCollector,
) -> Brand | None:
    """A display name, subject or body heading naming a brand the sender's domain is not."""
    if sender is None:
        return None
    address = sender.get("address", "").lower()
    domain = address.rsplit("@", 1)[-1] if "@" in address else ""
    if not domain:
        return None
    sender_reg = lookalike.registrable(domain)
    heading = _heading(body_text)
    places: list[tuple[str, str, bool]] = [
        ("display_name", sender.get("name", ""), False),
        ("subject", subject, True),
        ("heading", heading, True),
    ]
    for where, text, needs_context in places:
        if not text:
            continue
        for brand in named_brands(text, table):
            if owns(brand, sender_reg):
                continue
            if needs_context and (where == "heading" and brand.strict):
                continue
            if needs_context and not ACCOUNT_CONTEXT_RE.search(text):
                continue
            detail: dict[str, Any] = {"claimed_name": brand.name, "where": where}
            real = evidence_domain(sender_reg)
            if real:
                detail["real_domain"] = real
            detail["brand_domains"] = sorted(brand.domains)[:5]
            warnings.add(
                "brand_impersonation",
                "header:from"
                if where == "display_name"
                else ("header:subject" if where == "subject" else "body"),
                detail,
            )
            return brand
    return None


def _positions(text: str, needle: str) -> int:
    if not needle:
        return -1
    return text.find(needle[:80])


def check_credential_harvest(
    sender: dict[str, str] | None,
    body_text: str,
    links: list[tuple[Href, str]],
    brand: Brand | None,
    table: tuple[Brand, ...],
    warnings: WarningCollector,
) -> None:
    """A call to log in, verify, unlock or pay beside a link to an unrelated domain."""
    address = (sender or {}).get("address", "").lower()
    domain = address.rsplit("@", 1)[-1] if "@" in address else ""
    sender_reg = lookalike.registrable(domain) if domain else ""
    text = body_text[:50_000]
    for link, reg in links:
        address_ip = ip_host(reg)
        if address_ip is not None and (address_ip.is_private or address_ip.is_loopback):
            continue  # an intranet server (link_ip_literal says so, informational)
        if reg in REDIRECTORS or reg in MAIL_PROVIDERS:
            continue  # a tracker or a help desk: says nothing about the destination
        if sender_reg and related(reg, sender_reg, table):
            continue
        if owners(table, reg) and not _user_content(link.href, reg):
            continue  # a link to a well-known brand's own site is not a harvest
        if brand is not None and owns(brand, reg):
            continue
        cta = _cta(link.text)
        if cta is None:
            anchor = link.text if link.text.strip() else link.href
            at = _positions(text, anchor.strip())
            if at < 0:
                continue
            cta = _cta(text[max(0, at - _WINDOW) : at + len(anchor) + 40])
        if cta is None:
            continue
        detail: dict[str, Any] = {"cta": cta}
        real = evidence_domain(reg)
        if real:
            detail["real_domain"] = real
        sender_ev = evidence_domain(sender_reg) if sender_reg else None
        if sender_ev:
            detail["sender_domain"] = sender_ev
        if brand is not None:
            detail["claimed_name"] = brand.name
        warnings.add("credential_harvest_link", "body", detail)
        return


def _user_content(href: str, reg: str) -> bool:
    if reg in USER_CONTENT:
        return True
    parts = split_url(href)
    return parts is not None and url_host(parts) in USER_CONTENT


def _cta(text: str) -> str | None:
    """The first call to action of :data:`CTA` that ``text`` holds, each tried only where
    one of its anchors occurs (:mod:`mailguard_core.sanitize.anchors`)."""
    if not text:
        return None
    folded = fold(text, text.lower())
    for name, rx, starts in _CTA:
        if _found(rx, starts, text, folded):
            return name
    return None


_CTA = tuple((name, rx, anchors(rx)) for name, rx in CTA)


#: the language checks with their anchors (:mod:`mailguard_core.sanitize.anchors`)
_LANGUAGE = (
    ("urgency", URGENCY_RE, anchors(URGENCY_RE)),
    ("payment_change", PAYMENT_CHANGE_RE, anchors(PAYMENT_CHANGE_RE)),
)


def _found(rx: re.Pattern[str], starts: Anchors | None, sample: str, folded: str | None) -> bool:
    """``rx.search(sample) is not None``, tried only at its anchors when it has them."""
    if starts is None or folded is None:
        return rx.search(sample) is not None
    return find_anchored(rx, starts, sample, folded)


def check_urgency(subject: str, body_text: str, warnings: WarningCollector) -> None:
    """Urgency or payment-change language, reported only beside another adversarial signal."""
    if not any(w.code in COMPANIONS and w.severity == "adversarial" for w in warnings.items()):
        return
    sample = f"{subject}\n{body_text[:20_000]}"
    folded = fold(sample, sample.lower())
    kinds = [name for name, rx, starts in _LANGUAGE if _found(rx, starts, sample, folded)]
    if kinds:
        warnings.add("phishing_urgency_language", "body", {"kinds": kinds})
