"""Totality of attachment extraction: arbitrary bytes give a result or a typed error.

The generators are wider than any extractor: raw bytes for every extractor, and real
documents (reportlab, python-docx) with bytes flipped, cut and spliced.
"""

from __future__ import annotations

import functools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailguard_core import AttachmentText, ExtractOptions, extract_attachment_text
from mailguard_core.model.errors import MailguardError, SanitizeError
from mailguard_core.sanitize.extract import Extracted, ExtractLimits
from mailguard_core.sanitize.extract.run import KINDS, extract
from tests.support import documents as docs

LIMITS = ExtractLimits(max_chars=5_000, max_pages=5, max_xml_bytes=2_000_000, max_events=50)
IN_PROCESS = ExtractOptions(isolate=False, max_chars=5_000, max_pages=5)
CTYPES = st.one_of(
    st.sampled_from(
        [
            "application/pdf", "application/octet-stream", "text/plain; charset=utf-16",
            "text/html; charset=x-nope", "text/calendar", "message/rfc822", "image/png",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "",
            "text/plain; charset*=utf-8''%ff", "multipart/mixed; boundary=",
        ]
    ),
    st.text(max_size=80),
)  # fmt: skip


@functools.cache
def _seeds() -> tuple[bytes, ...]:
    return (
        docs.pdf_plain(pages=2, lines=3),
        docs.PDF_HIDING["covered_by_rect"][0](),
        docs.docx_plain(),
        docs.DOCX_HIDING["style_vanish"][0](),
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\nDTSTART:20260101T100000Z\r\n"
        b"END:VEVENT\r\nEND:VCALENDAR\r\n",
        b"From: a@example.com\r\nSubject: s\r\n\r\n<html><body>x</body></html>",
    )


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real document with some bytes flipped, a slice cut out or foreign bytes spliced in."""
    data = bytearray(draw(st.sampled_from(_seeds())))
    for _ in range(draw(st.integers(0, 8))):
        op = draw(st.sampled_from(["flip", "cut", "splice", "truncate"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[at] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[at : at + draw(st.integers(1, 400))]
        elif op == "splice":
            data[at:at] = draw(st.binary(max_size=64))
        else:
            del data[at:]
    return bytes(data)


def _total(outcome: object) -> None:
    assert isinstance(outcome, Extracted | AttachmentText | MailguardError), outcome
    assert not isinstance(outcome, SanitizeError), outcome


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(KINDS), data=st.one_of(st.binary(max_size=4_000), mutated()))
def test_every_extractor_is_total(kind: str, data: bytes) -> None:
    try:
        outcome: object = extract(kind, data, None, LIMITS)
    except MailguardError as exc:
        outcome = exc
    _total(outcome)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=4_000), mutated()), ctype=CTYPES)
def test_extract_attachment_text_is_total(data: bytes, ctype: str) -> None:
    try:
        outcome: object = extract_attachment_text(data, content_type=ctype, options=IN_PROCESS)
    except MailguardError as exc:
        outcome = exc
    _total(outcome)
    if isinstance(outcome, AttachmentText):
        assert len(outcome.text) <= 5_000
        assert "\u200b" not in outcome.text and "\u202e" not in outcome.text


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated())
def test_isolated_extraction_is_total(data: bytes) -> None:
    try:
        outcome: object = extract_attachment_text(
            data, content_type="application/octet-stream", options=ExtractOptions(max_pages=5)
        )
    except MailguardError as exc:
        outcome = exc
    _total(outcome)
