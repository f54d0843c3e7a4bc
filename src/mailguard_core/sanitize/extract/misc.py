"""Text-like attachments: plain text, HTML, iCalendar and attached messages.

HTML goes through the body's HTML sanitizer (:func:`~mailguard_core.sanitize.html.process_html`,
hidden content removed the same way); an attached message through
:func:`~mailguard_core.sanitize.api.sanitize_message` (its own envelope).
"""

from __future__ import annotations

import codecs
import datetime as dt
from typing import Any

from mailguard_core.model.errors import AttachmentUnreadable
from mailguard_core.sanitize.extract import Extracted, ExtractLimits
from mailguard_core.sanitize.headers import decode_bytes
from mailguard_core.sanitize.warnings import WarningCollector

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: bytes sampled by the charset detector
_DETECT_BYTES = 64_000


def decode_text(data: bytes, charset: str | None) -> tuple[str, str]:
    """Text of ``data`` and the charset used: BOM, then the declared charset, then UTF-8,
    then charset-normalizer's guess, then cp1252 with replacement."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data.decode(name, errors="replace"), name.removesuffix("-sig")
    if charset:
        text, fallback = decode_bytes(data, charset)
        if not fallback:
            return text, charset.strip().lower()[:40]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    best = charset_normalizer.from_bytes(data[:_DETECT_BYTES]).best()
    if best is not None:
        try:
            return data.decode(best.encoding, errors="replace"), str(best.encoding)
        except (LookupError, ValueError):
            pass
    return data.decode("cp1252", errors="replace"), "cp1252"


def extract_plain(data: bytes, charset: str | None, limits: ExtractLimits) -> Extracted:
    """Plain text, decoded (see :func:`decode_text`)."""
    text, used = decode_text(data[: limits.max_chars * 4 + 4], charset)
    out = Extracted(extractor=f"text {used}")
    out.text, out.truncated = _cut(text, limits.max_chars)
    return out


def extract_html(data: bytes, charset: str | None, limits: ExtractLimits) -> Extracted:
    """The visible text of an HTML document, through the body's HTML sanitizer."""
    from mailguard_core.sanitize.envelope import MimeLimits
    from mailguard_core.sanitize.html import process_html
    from mailguard_core.sanitize.injection import RuleBasedDetector

    text, used = decode_text(data, charset)
    out = Extracted(extractor=f"html {used}")
    cap = MimeLimits().max_html_bytes
    if len(text) > cap:
        out.limits_hit.append("max_html_bytes")
        text = text[:cap]
    detector = RuleBasedDetector()
    warnings = WarningCollector()
    result = process_html(
        text,
        location="attachment",
        warnings=warnings,
        flagged=lambda t: bool(detector.detect(t)),
        want_html=False,
    )
    out.warnings.extend(warnings.items())
    out.links.extend((link.href, link.text) for link in result.links[:1_000])
    out.text, out.truncated = _cut(result.text, limits.max_chars)
    return out


def _cut(text: str, max_chars: int) -> tuple[str, bool]:
    if len(text) > max_chars:
        return text[:max_chars], True
    return text, False


def _when(value: Any) -> str | None:
    prop = getattr(value, "dt", value)
    if isinstance(prop, dt.datetime):
        return prop.isoformat(timespec="minutes")
    if isinstance(prop, dt.date):
        return prop.isoformat()
    return None


def _person(value: Any) -> str:
    address = str(value)
    if address.lower().startswith("mailto:"):
        address = address[7:]
    params = getattr(value, "params", {}) or {}
    name = str(params.get("CN", "")).strip().strip('"')
    return f"{name} <{address}>" if name else address


def extract_calendar(data: bytes, charset: str | None, limits: ExtractLimits) -> Extracted:
    """The events of an iCalendar file: summary, time, place, organizer, attendees, notes.

    Raises:
        AttachmentUnreadable: the file does not parse as iCalendar.
    """
    import icalendar

    text, _used = decode_text(data, charset)
    out = Extracted(extractor=f"icalendar {icalendar.__version__}")
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise AttachmentUnreadable(f"icalendar: {type(exc).__name__}") from None
    blocks: list[str] = []
    size = 0
    events = 0
    for calendar in calendars:
        for component in calendar.walk():
            if component.name not in ("VEVENT", "VTODO"):
                continue
            events += 1
            if events > limits.max_events:
                out.limits_hit.append("max_events")
                break
            block = _event(component)
            blocks.append(block)
            size += len(block)
            if size > limits.max_chars:
                break
        if events > limits.max_events or size > limits.max_chars:
            break
    out.pages = None
    out.text, out.truncated = _cut("\n\n".join(blocks), limits.max_chars)
    return out


def _event(component: Any) -> str:
    lines: list[str] = []
    kind = "Task" if component.name == "VTODO" else "Event"
    summary = component.get("SUMMARY")
    lines.append(f"{kind}: {summary}" if summary is not None else f"{kind}: (no title)")
    start = _when(component.get("DTSTART"))
    end = _when(component.get("DTEND") or component.get("DUE"))
    if start:
        lines.append(f"When: {start}" + (f" to {end}" if end else ""))
    location = component.get("LOCATION")
    if location is not None:
        lines.append(f"Where: {location}")
    organizer = component.get("ORGANIZER")
    if organizer is not None:
        lines.append(f"Organizer: {_person(organizer)}")
    attendees = component.get("ATTENDEE")
    if attendees is not None:
        items = attendees if isinstance(attendees, list) else [attendees]
        shown = ", ".join(_person(a) for a in items[:100])
        more = f" and {len(items) - 100} more" if len(items) > 100 else ""
        lines.append(f"Attendees: {shown}{more}")
    description = component.get("DESCRIPTION")
    if description is not None and str(description).strip():
        lines.append(f"Notes: {description}")
    return "\n".join(lines)


def extract_message(data: bytes, limits: ExtractLimits) -> Extracted:
    """An attached message: its own sanitized envelope; the text is its body."""
    from mailguard_core.sanitize.api import sanitize_message
    from mailguard_core.sanitize.envelope import SanitizeOptions

    safe = sanitize_message(data, SanitizeOptions(max_body_chars=limits.max_chars))
    out = Extracted(extractor="mailguard sanitize_message")
    out.nested = safe.to_dict()
    out.text = safe.body_text
    out.truncated = bool((safe.body or {}).get("truncated"))
    return out
