"""Body stage: decode the parts a reader sees, run the HTML stages, compare alternatives."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from email.message import Message

import attrs

from mailguard_core.sanitize.envelope import MimeLimits
from mailguard_core.sanitize.headers import HeaderIndex, decode_bytes, decode_value, raw_header
from mailguard_core.sanitize.html import Link, process_html
from mailguard_core.sanitize.lookalike import registrable
from mailguard_core.sanitize.mime import Shown, charset_param
from mailguard_core.sanitize.text_addresses import address_spans
from mailguard_core.sanitize.warnings import WarningCollector

_WORD_RE = re.compile(r"[^\W\d_]{3,}")
#: ``(?:https?://|www\.)\S+`` under re.IGNORECASE, spelled so that the engine can skip to
#: an ``h`` or ``w`` in C (three times faster on long plain parts); U+017F (long s) is in the
#: ``s`` class because IGNORECASE folds it to ``s``
URL_RE = re.compile(r"[HhWw](?:(?<=[Hh])[Tt][Tt][Pp][Ss\u017f]?://|(?<=[Ww])[Ww][Ww]\.)\S+")
_HOST_IN_URL_RE = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^/?#@]*@)?([^/?#:\s]+)", re.IGNORECASE)
_MAX_DESTINATIONS = 200
_MISMATCH_MIN_WORDS = 10
_MISMATCH_RATIO = 0.25
_PLAIN_BLANKS_RE = re.compile(r"\n{3,}")


@attrs.define
class Budget:
    """Total decoded bytes left for bodies."""

    left: int


@attrs.define
class BodyResult:
    text: str = ""
    source: str | None = None
    links: list[Link] = attrs.Factory(list)
    html: list[str] = attrs.Factory(list)
    hidden_alternatives: list[str] = attrs.Factory(list)


def part_bytes(
    part: Message, limits: MimeLimits, budget: Budget, warnings: WarningCollector
) -> bytes:
    """The transfer-decoded payload of a leaf part, cut at the per-part and total limits."""
    data = _decoded(part)
    cap = min(limits.max_part_bytes, max(0, budget.left))
    if len(data) > cap:
        warnings.add(
            "mime_limit_exceeded",
            "mime",
            {"limit": "max_part_bytes" if cap == limits.max_part_bytes else "max_total_bytes"},
        )
        data = data[:cap]
    budget.left -= len(data)
    return data


def _decoded(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except (ValueError, TypeError, LookupError, UnicodeError):
        data = None
    if not isinstance(data, bytes):
        payload = part.get_payload()
        data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
    return data


def attachment_head_and_size(part: Message) -> tuple[bytes, int]:
    """The first bytes (for magic sniffing) and the decoded size of an attachment.

    Base64 payloads, the bulk of attachments, are not decoded whole: the size follows from
    the encoded length and only the first line is decoded.
    """
    payload = part.get_payload()
    cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if cte == "base64" and isinstance(payload, str) and payload.isascii():
        # only the characters the payload holds are counted: ``in`` finds an absent one with
        # memchr, ``count`` would walk the whole payload for it (most hold no blank or tab)
        length = len(payload) - sum(payload.count(c) for c in "\r\n \t" if c in payload)
        stripped = payload.rstrip()
        padding = len(stripped) - len(stripped.rstrip("="))
        head_b64 = "".join(payload[:200].split())[:24]
        try:
            head = base64.b64decode(head_b64[: len(head_b64) // 4 * 4])
        except ValueError:
            head = b""
        return head, max(0, length * 3 // 4 - min(padding, 2))
    data = _decoded(part)
    return data[:64], len(data)


def part_text(part: Message, data: bytes, location: str, warnings: WarningCollector) -> str:
    """Decode a text part with its declared charset, falling back with a warning."""
    charset = charset_param(part)
    declared = charset if isinstance(charset, str) else None
    text, fallback = decode_bytes(data, declared)
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark is encoding metadata, not hidden content
    if fallback and (declared is not None or not data.isascii()):
        warnings.count("charset_fallback", location, 1)
    return text


#: bytes.translate table: ASCII letters lower-cased, every other byte a space
_LETTER_BYTES = bytes(
    (c | 0x20) if chr(c).isascii() and chr(c).isalpha() else 0x20 for c in range(256)
)


def _words(text: str) -> set[str]:
    """Lower-cased words of 3+ letters outside URLs."""
    text = URL_RE.sub(" ", text)
    if text.isascii():
        # in ASCII ``[^\W\d_]`` is ``[A-Za-z]``: the same words, split in C
        data = text.encode("ascii").translate(_LETTER_BYTES).decode("ascii")
        return {w for w in data.split() if len(w) >= 3}
    return {w.lower() for w in _WORD_RE.findall(text)}


def materially_different(plain: str, visible: str) -> bool:
    """True when the plain alternative has many words the reader never sees in the HTML."""
    plain_words = _words(plain)
    missing = plain_words - _words(visible)
    return len(missing) >= _MISMATCH_MIN_WORDS and len(missing) >= _MISMATCH_RATIO * len(
        plain_words
    )


def _url_domain(url: str) -> str:
    match = _HOST_IN_URL_RE.match(url if "://" in url[:12] else "http://" + url)
    return match.group(1).lower().rstrip(".") if match else ""


def hidden_destinations(plain: str, visible_links: list[Link], own: frozenset[str]) -> int:
    """Registrable domains the hidden alternative sends a reader to (URLs and addresses) that
    neither a visible link nor the sender's own domains (``own``, registrable) lead to."""
    seen = set(own)
    for link in visible_links[:_MAX_DESTINATIONS]:
        host = _url_domain(link.href)
        if host:
            seen.add(registrable(host))
    found: set[str] = set()
    urls = URL_RE.finditer(plain)
    addresses = address_spans(plain)  # linear: see text_addresses
    for _, match in zip(range(_MAX_DESTINATIONS), urls, strict=False):
        host = _url_domain(match.group(0))
        if host:
            found.add(registrable(host))
    for _, (start, end) in zip(range(_MAX_DESTINATIONS), addresses, strict=False):
        found.add(registrable(plain[start:end].partition("@")[2].lower()))
    return len(found - seen - {""})


def _forward_heading(nested: Message, warnings: WarningCollector) -> str:
    lines = ["---------- Attached message ----------"]
    index = HeaderIndex(nested)
    for name in ("From", "Date", "Subject"):
        value = raw_header(index, name)
        if value is not None:
            clean = decode_value(value, location="attached:header", warnings=warnings, limit=300)
            lines.append(f"{name}: {clean}")
    return "\n".join(lines) + "\n\n"


def build_body(
    shown: list[Shown],
    *,
    limits: MimeLimits,
    budget: Budget,
    warnings: WarningCollector,
    flagged: Callable[[str], bool],
    want_html: bool,
    own: frozenset[str] = frozenset(),
) -> BodyResult:
    """Visible text of all shown parts, in order, plus links and clean HTML.

    A plain alternative that says something else than the visible HTML gives
    ``mime_alternative_mismatch``: adversarial when it holds instructions (``flagged``) or
    sends the reader somewhere the visible part does not (:func:`hidden_destinations`;
    ``own`` are the sender's registrable domains), informational otherwise (its text is
    never shown, so a divergence with neither can neither steer the model nor the reader).
    """
    result = BodyResult()
    pieces: list[str] = []
    for item in shown:
        part = item.part
        ctype = item.ctype
        location = "body:html" if ctype == "text/html" else "body:text"
        data = part_bytes(part, limits, budget, warnings)
        text = part_text(part, data, location, warnings)
        if result.source is None:
            result.source = ctype
        part_links: list[Link] = []
        if ctype == "text/html":
            if len(text) > limits.max_html_bytes:
                warnings.add("mime_limit_exceeded", "mime", {"limit": "max_html_bytes"})
                text = text[: limits.max_html_bytes]
            out = process_html(
                text, location=location, warnings=warnings, flagged=flagged, want_html=want_html
            )
            visible = out.text
            part_links = out.links
            result.links.extend(out.links)
            if out.clean_html is not None:
                result.html.append(out.clean_html)
        else:
            visible = _PLAIN_BLANKS_RE.sub(
                "\n\n", text.replace("\r\n", "\n").replace("\r", "\n")
            ).strip()
        if item.plain_alternative is not None:
            alt_data = part_bytes(item.plain_alternative, limits, budget, warnings)
            plain = part_text(item.plain_alternative, alt_data, "body:text", warnings)
            if materially_different(plain, visible):
                destinations = hidden_destinations(plain, part_links, own)
                instructions = flagged(plain)
                warnings.add(
                    "mime_alternative_mismatch",
                    "body",
                    {"shown": "text/html", "destinations": destinations,
                     "instructions": instructions},
                    severity="adversarial" if destinations or instructions else "informational",
                )  # fmt: skip
                result.hidden_alternatives.append(plain)
        if item.forwarded is not None:
            visible = _forward_heading(item.forwarded, warnings) + visible
        if visible:
            pieces.append(visible)
    result.text = "\n\n".join(pieces)
    return result
