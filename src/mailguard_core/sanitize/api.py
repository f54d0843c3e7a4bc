"""The sanitizer's entry points: ``sanitize_message`` and ``sanitize_headers``."""

from __future__ import annotations

import contextlib
import email
import email.utils
import re
from collections.abc import Iterator
from email.message import Message
from typing import Any

from mailguard_core.model.errors import (
    LimitExceeded,
    MailguardError,
    MessageTooLarge,
    SanitizeError,
)
from mailguard_core.ports.detector import InjectionDetector
from mailguard_core.sanitize import (
    brands,
    files,
    headers,
    identity,
    lookalike,
    phishing,
)
from mailguard_core.sanitize.body import URL_RE, Budget, attachment_head_and_size, build_body
from mailguard_core.sanitize.email_parser_shim import message_from_bytes
from mailguard_core.sanitize.envelope import SafeMessage, SanitizeOptions
from mailguard_core.sanitize.injection import RuleBasedDetector
from mailguard_core.sanitize.mime import filename_param, message_size, walk
from mailguard_core.sanitize.text import normalize_text, truncate_graphemes
from mailguard_core.sanitize.warnings import WarningCollector

_DEFAULT_DETECTOR = RuleBasedDetector()
#: a content type is a token/token pair; anything else (spaces, prose) is not passed on
CTYPE_RE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}")
_SIMPLE_EXT = {
    "application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif",
    "text/plain": "txt", "text/html": "html", "message/rfc822": "eml", "text/calendar": "ics",
    "application/zip": "zip",
}  # fmt: skip


def sanitize_message(raw: bytes, options: SanitizeOptions | None = None) -> SafeMessage:
    """Turn one raw RFC 822 message into a :class:`SafeMessage`.

    Total: any byte string gives a result or a :class:`MailguardError`.

    Raises:
        MessageTooLarge: ``raw`` is over ``options.limits.max_message_bytes``.
        LimitExceeded: the MIME structure is too deep for the parser.
        SanitizeError: an internal bug (tests check that no known input reaches it).
    """
    return _guarded(raw, options or SanitizeOptions(), headers_only=False)


def sanitize_headers(header_bytes: bytes, options: SanitizeOptions | None = None) -> SafeMessage:
    """The envelope of a search hit: header fields only, ``body_text`` "" and ``meta.body`` null."""
    return _guarded(header_bytes, options or SanitizeOptions(), headers_only=True)


def _guarded(raw: bytes, options: SanitizeOptions, *, headers_only: bool) -> SafeMessage:
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise SanitizeError(
            f"expected bytes, got {type(raw).__name__}", public="message is not bytes"
        )
    raw = bytes(raw)
    if len(raw) > options.limits.max_message_bytes:
        raise MessageTooLarge(
            f"message of {len(raw)} bytes over {options.limits.max_message_bytes}"
        )
    too_deep = LimitExceeded("MIME structure nested too deeply for the parser")
    with fail_closed("sanitizer", too_deep):
        safe = _sanitize(raw, options, headers_only=headers_only)
    return safe


@contextlib.contextmanager
def fail_closed(what: str, too_deep: MailguardError) -> Iterator[None]:
    """The sanitizer's boundary (a message, an attachment's text): its own typed errors pass,
    a structure nested past Python's recursion limit is ``too_deep``, anything else (a bug, a
    library's surprise) is a :class:`SanitizeError` naming only the exception's type, so no
    untrusted text leaves in an error message."""
    try:
        yield
    except MailguardError:
        raise
    except RecursionError as exc:
        raise too_deep from exc
    except Exception as exc:
        raise SanitizeError(f"{what} failed: {type(exc).__name__}") from exc


def _own_domains(untrusted: dict[str, Any]) -> frozenset[str]:
    """The registrable domain of the From address (empty when there is none)."""
    sender = untrusted.get("from")
    address = str(sender.get("address", "")) if isinstance(sender, dict) else ""
    domain = address.rpartition("@")[2].lower().strip().rstrip(".")
    return frozenset({lookalike.registrable(domain)}) if domain and "@" in address else frozenset()


def _flagger(detector: InjectionDetector) -> Any:
    def flagged(text: str) -> bool:
        return bool(detector.detect(text))

    return flagged


def _sanitize(raw: bytes, options: SanitizeOptions, *, headers_only: bool) -> SafeMessage:
    warnings = WarningCollector()
    limits = options.limits
    if headers_only and b"\n\n" not in raw and b"\r\n\r\n" not in raw:
        raw = raw.rstrip(b"\r\n") + b"\r\n\r\n"
    msg = message_from_bytes(raw)
    index = headers.HeaderIndex(msg)
    if index.count > limits.max_headers:
        warnings.add("mime_limit_exceeded", "mime", {"limit": "max_headers"})
    detector = options.detector or _DEFAULT_DETECTOR
    untrusted = _header_fields(index, warnings)
    prov = headers.provenance(
        index, trusted_authserv_id=options.trusted_authserv_id, warnings=warnings
    )
    known = tuple(options.known_domains) + tuple(options.own_domains)
    sender = untrusted["from"]
    list_domains = list(headers.list_domains(prov))
    sender_header = headers.raw_header(index, "Sender")
    if sender_header and "@" in sender_header:
        list_domains.append(sender_header.rsplit("@", 1)[-1].strip(" >\t\r\n").lower())
    recipients = [a["address"] for a in untrusted["to"] + untrusted["cc"]]
    brand_table = brands.extended(options.brands)
    identity.check_identity(
        sender, untrusted["reply_to"], list_domains, recipients, known, warnings, brand_table
    )
    if untrusted["subject"]:
        rules = detector.detect(untrusted["subject"])
        if rules:
            warnings.add("injection_suspected", "header:subject", {"rules": list(rules)})
    body_meta: dict[str, Any] | None = None
    if headers_only:
        untrusted["body_text"] = ""
        untrusted["attachments"] = []
        _phishing_signals(untrusted, [], "", brand_table, warnings)
    else:
        tree = walk(msg, limits, warnings)
        budget = Budget(left=limits.max_total_bytes)
        body = build_body(
            tree.shown, limits=limits, budget=budget, warnings=warnings,
            flagged=_flagger(detector), want_html=options.include_html,
            own=_own_domains(untrusted),
        )  # fmt: skip
        identity.check_links(body.links, known, warnings)
        text = normalize_text(body.text, "body", warnings).strip()
        rules = detector.detect(text)
        if rules:
            warnings.add("injection_suspected", "body", {"rules": list(rules)})
        for alternative in body.hidden_alternatives:
            alt_rules = detector.detect(alternative)
            if alt_rules:
                warnings.add("injection_suspected", "body:alternative", {"rules": list(alt_rules)})
        text, truncated = truncate_graphemes(text, max(0, options.max_body_chars))
        if truncated:
            warnings.add("body_truncated", "body", {"limit": options.max_body_chars})
        untrusted["body_text"] = text
        pages: dict[str, list[str]] = {}
        untrusted["attachments"] = _attachments(tree.attachments, limits, budget, warnings, pages)
        discussion = _discussion_list(prov)
        _phishing_signals(
            untrusted, body.links, text, brand_table, warnings, pages, discussion=discussion
        )
        if options.include_html:
            html = "\n".join(body.html)
            scratch = WarningCollector()
            untrusted["html"] = normalize_text(html, "body:html", scratch) if body.html else None
        body_meta = {"source": body.source, "chars": len(text), "truncated": truncated}
    return SafeMessage(
        options=options,
        size_bytes=options.size_bytes if options.size_bytes is not None else len(raw),
        body=body_meta,
        provenance=prov,
        untrusted=untrusted,
        warnings=tuple(warnings.items()),
    )


def _discussion_list(prov: dict[str, Any]) -> bool:
    info = prov.get("mailing_list")
    return isinstance(info, dict) and bool(info.get("list_id")) and bool(info.get("list_post"))


def _page_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except (ValueError, TypeError, LookupError, UnicodeError):
        return b""
    return data[: phishing.PAGE_SCAN_BYTES] if isinstance(data, bytes) else b""


_URL_TAIL = ".,;:!?)]}>'\"\u00bb\u201d"


def _phishing_signals(
    untrusted: dict[str, Any],
    html_links: list[Any],
    text: str,
    brand_table: tuple[brands.Brand, ...],
    warnings: WarningCollector,
    pages: dict[str, list[str]] | None = None,
    *,
    discussion: bool = False,
) -> None:
    """The phishing signals of the ``phishing`` package over the header fields, links and body text.

    ``discussion``: the message came through a discussion list (``List-Id`` and
    ``List-Post``): people there point each other at sites to log in to, so the
    credential-harvest check is skipped (the other signals stay).
    """
    hrefs = [phishing.Href(link.href, link.text) for link in html_links]
    # URL_RE needs ``://`` or ``ww.`` (any case): without both, the scan finds nothing
    scan = "://" in text or "w." in text or "W." in text
    for _, match in zip(range(500), URL_RE.finditer(text) if scan else (), strict=False):
        url = match.group(0).rstrip(_URL_TAIL)
        hrefs.append(phishing.Href(url if "://" in url[:8] else "http://" + url))
    links = phishing.check_links(hrefs, warnings)
    sender = untrusted["from"]
    brand = phishing.check_brand(sender, untrusted["subject"], text, brand_table, warnings)
    if not discussion:
        phishing.check_credential_harvest(sender, text, links, brand, brand_table, warnings)
    phishing.check_attachments(untrusted["attachments"], warnings, pages)
    phishing.check_urgency(untrusted["subject"], text, warnings)


def _header_fields(msg: headers.HeaderIndex, warnings: WarningCollector) -> dict[str, Any]:
    def one(name: str, limit: int = 998) -> str | None:
        value = headers.raw_header(msg, name)
        if value is None:
            return None
        return headers.decode_value(
            value, location=f"header:{name.lower()}", warnings=warnings, limit=limit
        )

    senders = headers.addresses(msg, "From", location="header:from", warnings=warnings)
    date_text = one("Date", 200)
    date_iso: str | None = date_text
    if date_text:
        try:
            date_iso = email.utils.parsedate_to_datetime(date_text).isoformat()
        except (TypeError, ValueError, IndexError, OverflowError):
            date_iso = date_text
    return {
        "from": senders[0] if senders else None,
        "reply_to": headers.addresses(
            msg, "Reply-To", location="header:reply-to", warnings=warnings
        ),
        "to": headers.addresses(msg, "To", location="header:to", warnings=warnings),
        "cc": headers.addresses(msg, "Cc", location="header:cc", warnings=warnings),
        "subject": one("Subject") or "",
        "date": date_iso,
        "message_id": one("Message-ID", 500),
        "in_reply_to": one("In-Reply-To", 500),
    }


def _attachments(
    items: list[Any],
    limits: Any,
    budget: Budget,
    warnings: WarningCollector,
    pages: dict[str, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """The attachment list; ``pages`` gets the active features of attached HTML/SVG pages."""
    out: list[dict[str, Any]] = []
    for item in items:
        part = item.part
        ctype = item.ctype if CTYPE_RE.fullmatch(item.ctype) else "application/octet-stream"
        if ctype == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            data = b""
            size = message_size(inner, limits.max_parts) if isinstance(inner, Message) else 0
        else:
            data, size = attachment_head_and_size(part)
        try:
            raw_name = filename_param(part)
        except (ValueError, LookupError, UnicodeError, TypeError):
            raw_name = None
        name_text = None
        if raw_name:
            name_text = headers.decode_value(
                headers.header_str(raw_name),
                location="attachment:filename",
                warnings=WarningCollector(),
                limit=400,
                normalize=False,
            )
        fallback = f"attachment-{item.part_id}.{_SIMPLE_EXT.get(ctype, 'bin')}"
        filename, name_warnings = files.safe_filename(name_text, fallback=fallback)
        warnings.extend(name_warnings)
        grade = files.type_mismatch_severity(ctype, data, filename)  # b"" for a message
        if grade is not None:
            warnings.add(
                "mime_type_mismatch",
                f"attachment:{item.part_id}",
                {"declared": ctype[:100]},
                severity=grade,
            )
        if pages is not None and phishing.is_page(filename, ctype):
            pages[item.part_id] = phishing.page_features(_page_bytes(part))
        out.append(
            {
                "part_id": item.part_id,
                "filename": filename,
                "content_type": ctype[:100],
                "size_bytes": size,
                "inline": item.inline,
            }
        )
    return out
