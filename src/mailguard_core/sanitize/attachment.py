"""Attachment text: ``extract_attachment_text`` turns a document into a sanitized envelope.

The type is decided by the bytes (magic numbers, zip contents, text sniffing), never by the
declared type or the name; a contradiction is a ``mime_type_mismatch`` warning, graded by the
rule every attachment site shares (:func:`~mailguard_core.sanitize.files.mismatch_severity`,
given the magic bytes' type where there is one). The text an
extractor returns goes through the body's stages: Unicode normalization and invisible
character stripping (:func:`~mailguard_core.sanitize.text.normalize_text`), link checks
(:func:`~mailguard_core.sanitize.identity.check_links`) and the injection detector.
"""

from __future__ import annotations

import email.message
from typing import Any

import attrs

from mailguard_core.model.errors import (
    ExtractionLimitExceeded,
    InputError,
    UnsupportedAttachment,
)
from mailguard_core.ports.detector import InjectionDetector
from mailguard_core.sanitize import files, identity
from mailguard_core.sanitize.api import CTYPE_RE, fail_closed
from mailguard_core.sanitize.body import URL_RE
from mailguard_core.sanitize.extract import Extracted, ExtractLimits
from mailguard_core.sanitize.html import Link
from mailguard_core.sanitize.injection import RuleBasedDetector
from mailguard_core.sanitize.text import normalize_text, truncate_graphemes
from mailguard_core.sanitize.warnings import SEVERITY, SecurityWarning, WarningCollector

SCHEMA = "mailguard.attachment/1"
LOCATION = "attachment"
_DEFAULT_DETECTOR = RuleBasedDetector()
_DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_ODT_TYPE = "application/vnd.oasis.opendocument.text"
#: detected type -> the extractor that reads it
_KINDS: dict[str, str] = {
    "application/pdf": "pdf",
    _DOCX_TYPE: "docx",
    "text/html": "html",
    "text/calendar": "calendar",
    "message/rfc822": "message",
    "text/plain": "text",
}
_HTML_STARTS = (
    b"<!doctype html", b"<html", b"<head", b"<body", b"<div", b"<p>", b"<p ", b"<table",
    b"<meta", b"<style", b"<title", b"<span", b"<br", b"<a ", b"<!--", b"<font", b"<h1",
)  # fmt: skip
_MESSAGE_HEADERS = (
    b"from:", b"to:", b"subject:", b"date:", b"message-id:", b"received:", b"mime-version:",
    b"return-path:", b"delivered-to:", b"reply-to:", b"cc:", b"content-type:",
)  # fmt: skip
_SNIFF_BYTES = 4_096


@attrs.frozen(kw_only=True)
class ExtractOptions:
    """Limits and checks for :func:`extract_attachment_text`. Every field has a default.

    ``max_input_bytes`` is checked before anything else (``ExtractionLimitExceeded``).
    ``cpu_seconds``, ``memory_bytes`` and ``wall_seconds`` bound the child process that
    reads the document (``isolate=False`` reads it in this process, without those limits:
    for tests and benchmarks of trusted files only).
    """

    max_input_bytes: int = 10_000_000
    max_chars: int = 50_000
    max_pages: int = 200
    max_xml_bytes: int = 20_000_000
    max_events: int = 500
    cpu_seconds: float = 10.0
    memory_bytes: int = 512 * 1024 * 1024
    wall_seconds: float = 30.0
    isolate: bool = True
    known_domains: tuple[str, ...] = ()
    detector: InjectionDetector | None = None


@attrs.frozen(kw_only=True)
class AttachmentText:
    """The sanitized text of one attachment: ``meta``, ``untrusted``, warnings."""

    filename: str | None
    declared_type: str
    detected_type: str
    size_bytes: int
    pages: int | None
    truncated: bool
    extractor: str
    text: str
    message: dict[str, Any] | None
    warnings: tuple[SecurityWarning, ...]

    @property
    def warning_codes(self) -> frozenset[str]:
        """The codes of all warnings."""
        return frozenset(w.code for w in self.warnings)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready result: the three parts of a message envelope."""
        untrusted: dict[str, Any] = {"filename": self.filename, "text": self.text}
        if self.message is not None:
            untrusted["message"] = self.message
        return {
            "meta": {
                "schema": SCHEMA,
                "declared_type": self.declared_type,
                "detected_type": self.detected_type,
                "size_bytes": self.size_bytes,
                "pages": self.pages,
                "chars": len(self.text),
                "truncated": self.truncated,
                "extractor": self.extractor,
            },
            "untrusted": untrusted,
            "security_warnings": [w.to_dict() for w in self.warnings],
        }


def extract_attachment_text(
    data: bytes,
    *,
    content_type: str,
    filename: str | None = None,
    options: ExtractOptions | None = None,
) -> AttachmentText:
    """The visible text of an attachment, sanitized like a message body.

    PDF, Word (.docx), HTML, plain text (any charset), iCalendar and attached messages. The
    type is sniffed from ``data``; ``content_type`` (which may carry a ``charset``) and
    ``filename`` are what the message declared. Total: a result or a ``MailguardError``.

    Raises:
        ExtractionLimitExceeded: over ``max_input_bytes``, or a time, memory or size limit
            ended the extraction.
        UnsupportedAttachment: no text extraction for this type (images, archives, ...).
        AttachmentUnreadable: a damaged or encrypted document, or one that is not what its
            bytes begin like.
        InputError: ``data`` is not bytes or ``content_type`` not a string.
    """
    options = options or ExtractOptions()
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InputError(f"expected bytes, got {type(data).__name__}", public="data is not bytes")
    if not isinstance(content_type, str) or not (filename is None or isinstance(filename, str)):
        raise InputError("content_type and filename must be strings", public="invalid type")
    data = bytes(data)
    if len(data) > options.max_input_bytes:
        raise ExtractionLimitExceeded(
            f"attachment of {len(data)} bytes over {options.max_input_bytes}",
            public=f"the attachment is larger than the {options.max_input_bytes} byte limit",
        )
    too_deep = ExtractionLimitExceeded("attachment nested too deeply")
    with fail_closed("attachment sanitizer", too_deep):
        text = _extract(data, content_type, filename, options)
    return text


def _declared(content_type: str) -> tuple[str, str | None]:
    msg = email.message.Message()
    try:
        msg["Content-Type"] = content_type.replace("\r", " ").replace("\n", " ")[:1000]
        ctype = msg.get_content_type()
        charset = msg.get_param("charset")
    except (ValueError, TypeError, LookupError, IndexError):
        return "application/octet-stream", None
    if not CTYPE_RE.fullmatch(ctype):
        ctype = "application/octet-stream"
    return ctype, charset if isinstance(charset, str) and len(charset) < 40 else None


def sniff(data: bytes, declared: str) -> str:
    """The type ``data`` really has, from its bytes (``declared`` only picks between text
    readings that the bytes allow: HTML or an attached message may be declared as such).

    Raises:
        UnsupportedAttachment: a type with no text extraction.
    """
    head = data[:_SNIFF_BYTES]
    if b"%PDF-" in data[:1024]:
        return "application/pdf"
    magic = files.sniff_content_type(head[:16])
    if magic == "application/zip":
        return _zip_type(data)
    if magic is not None:
        raise UnsupportedAttachment(f"no text extraction for {magic}")
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnsupportedAttachment("binary data of an unknown type")
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith(b"begin:vcalendar"):
        return "text/calendar"
    if start.startswith(_HTML_STARTS) or (declared == "text/html" and b"<" in head):
        return "text/html"
    if declared in ("message/rfc822", "message/global") or _looks_like_message(start):
        return "message/rfc822"
    return "text/plain"


def _looks_like_message(start: bytes) -> bool:
    """Two or more well-known header fields in the leading header block."""
    block = start.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    lines = [line for line in block.split(b"\n")[:50] if line[:1] not in (b" ", b"\t")]
    return bool(lines) and sum(line.startswith(_MESSAGE_HEADERS) for line in lines) >= 2


def _zip_type(data: bytes) -> str:
    from mailguard_core.sanitize.extract.docx import open_zip, read_part

    with open_zip(data) as zf:
        names = set(zf.namelist())
        if "word/document.xml" in names:
            return _DOCX_TYPE
        mimetype = read_part(zf, "mimetype", 200) if "mimetype" in names else None
    if mimetype and mimetype.strip() == _ODT_TYPE.encode():
        raise UnsupportedAttachment("no text extraction for OpenDocument text (yet)")
    raise UnsupportedAttachment("no text extraction for this zip archive")


def _run(kind: str, data: bytes, charset: str | None, options: ExtractOptions) -> Extracted:
    from mailguard_core.sanitize.extract import run

    limits = ExtractLimits(
        max_chars=max(0, options.max_chars),
        max_pages=max(1, options.max_pages),
        max_xml_bytes=max(1, options.max_xml_bytes),
        max_events=max(1, options.max_events),
    )
    if not options.isolate:
        return run.extract(kind, data, charset, limits)
    return run.extract_isolated(
        kind, data, charset, limits,
        cpu_seconds=options.cpu_seconds, memory_bytes=options.memory_bytes,
        wall_seconds=options.wall_seconds,
    )  # fmt: skip


def _extract(
    data: bytes, content_type: str, filename: str | None, options: ExtractOptions
) -> AttachmentText:
    warnings = WarningCollector()
    declared, charset = _declared(content_type)
    name: str | None = None
    if filename:
        name, name_warnings = files.safe_filename(filename, fallback="attachment")
        warnings.extend(name_warnings)
    detected = sniff(data, declared)
    magic = files.sniff_content_type(data[:16])
    grade = files.mismatch_severity(declared, name, magic or detected)
    if grade is not None:
        types = {"declared": declared, "detected": detected}
        warnings.add("mime_type_mismatch", LOCATION, types, severity=grade)
    extracted = _run(_KINDS[detected], data, charset, options)
    detector = options.detector or _DEFAULT_DETECTOR
    for limit in extracted.limits_hit:
        warnings.add("mime_limit_exceeded", LOCATION, {"limit": limit})
    warnings.extend(extracted.warnings)
    for method, count in extracted.hidden.items():
        detail = {"method": method, "count": count}
        warnings.add("document_hidden_content_removed", LOCATION, detail)
    hidden = " ".join(extracted.hidden_text.values())
    if hidden:
        rules = detector.detect(normalize_text(hidden, LOCATION, WarningCollector()))
        if rules:
            warnings.add("injection_suspected", f"{LOCATION}:hidden", {"rules": list(rules)})
    if extracted.nested is not None:
        for item in extracted.nested.get("security_warnings", [])[:500]:
            nested = _nested_warning(item)
            if nested is not None:
                warnings.extend([nested])
    text = normalize_text(extracted.text, LOCATION, warnings).strip()
    _check_links(text, extracted.links, options, warnings)
    rules = detector.detect(text)
    if rules:
        warnings.add("injection_suspected", LOCATION, {"rules": list(rules)})
    text, cut = truncate_graphemes(text, max(0, options.max_chars))
    truncated = cut or extracted.truncated
    if truncated:
        warnings.add("body_truncated", LOCATION, {"limit": options.max_chars})
    return AttachmentText(
        filename=name,
        declared_type=declared,
        detected_type=detected,
        size_bytes=len(data),
        pages=extracted.pages,
        truncated=truncated,
        extractor=extracted.extractor,
        text=text,
        message=extracted.nested,
        warnings=tuple(warnings.items()),
    )


def _nested_warning(item: Any) -> SecurityWarning | None:
    """A warning of the attached message's envelope, located under ``message:``."""
    try:
        code = str(item["code"])
        return SecurityWarning(
            code=code,
            severity=SEVERITY[code],
            location=f"message:{str(item['location'])[:100]}",
            detail=dict(item.get("detail") or {}),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _check_links(
    text: str, found: list[tuple[str, str]], options: ExtractOptions, warnings: WarningCollector
) -> None:
    """The body's link checks, over the document's links and the URLs in its text."""
    links = [Link(href=href, text=label) for href, label in found[:1_000]]
    for match in URL_RE.finditer(text[:200_000]):
        if len(links) >= 2_000:
            break
        url = match.group(0).rstrip(".,;:!?)]}>'\"")
        links.append(Link(href=url if "://" in url else f"http://{url}", text=url))
    scratch = WarningCollector()
    identity.check_links(links, tuple(options.known_domains), scratch)
    for item in scratch.items():
        if item.location.startswith("body"):
            item = attrs.evolve(item, location=LOCATION)
        warnings.extend([item])


def message_attachments(raw: bytes) -> list[tuple[str, str, str | None, bytes]]:
    """``(part_id, content type, file name, decoded bytes)`` of each attachment of a raw
    message, with the part ids ``sanitize_message`` reports (for ``mailguard sanitize
    --attachments``). Parts over the MIME limits are left out as the sanitizer leaves them.
    """
    from email.message import Message

    from mailguard_core.sanitize.email_parser_shim import message_from_bytes
    from mailguard_core.sanitize.envelope import MimeLimits
    from mailguard_core.sanitize.mime import filename_param, walk

    limits = MimeLimits()
    tree = walk(message_from_bytes(raw), limits, WarningCollector())
    out: list[tuple[str, str, str | None, bytes]] = []
    for item in tree.attachments:
        part = item.part
        payload = part.get_payload()
        if item.ctype == "message/rfc822" and isinstance(payload, list) and payload:
            inner = payload[0]
            data = inner.as_bytes() if isinstance(inner, Message) else b""
        else:
            try:
                decoded = part.get_payload(decode=True)
            except (ValueError, TypeError, LookupError, UnicodeError):
                decoded = None
            data = decoded if isinstance(decoded, bytes) else b""
        try:
            name = filename_param(part)
        except (ValueError, LookupError, UnicodeError, TypeError):
            name = None
        ctype = part.get("Content-Type", item.ctype)
        out.append((item.part_id, str(ctype)[:1000], name if isinstance(name, str) else None, data))
    return out
