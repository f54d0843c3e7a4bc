"""One rule for ``mime_type_mismatch`` (issue 13): the three places that compare an
attachment's label with its bytes (the envelope's attachment list, ``download_attachment``,
``extract_attachment_text``) give the same verdict and grade for the same attachment, because
all three ask ``sanitize.files.mismatch_severity``.

The generators are wider than the rule's tables: declared types the rule has never heard of,
names with any extension, bytes with and without magic numbers and with random tails.
"""

from __future__ import annotations

from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailguard_core import ExtractOptions, extract_attachment_text
from mailguard_core.adapters.memory_downloads import InMemoryDownloads
from mailguard_core.adapters.memory_store import InMemoryMailStore
from mailguard_core.config import AccountConfig
from mailguard_core.model.errors import AttachmentUnreadable, UnsupportedAttachment
from mailguard_core.sanitize import sanitize_message
from mailguard_core.sanitize.files import sniff_content_type, type_mismatch_severity
from mailguard_core.services.use_cases import MailboxService
from tests.mcp.harness import attachment_message
from tests.support import documents as docs

IN_PROCESS = ExtractOptions(isolate=False)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

MAGIC = (
    b"%PDF-1.7\n", b"PK\x03\x04", b"MZ\x90\x00", b"\x7fELF", b"\xcf\xfa\xed\xfe",
    b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"\x1f\x8b", b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"{\\rtf1", b"%!PS", b"II*\x00",
    b"RIFF\x00\x00\x00\x00WEBP",
)  # fmt: skip
KNOWN_TYPES = (
    "application/pdf", "application/x-pdf", "application/zip", "application/x-zip-compressed",
    DOCX, "application/msword", "application/vnd.ms-excel", "application/octet-stream",
    "application/x-download", "application/x-msdownload", "application/gzip", "image/png",
    "image/jpeg", "image/jpg", "image/gif", "image/svg+xml", "text/plain", "text/html",
    "text/rtf", "text/calendar", "application/x-7z-compressed",
)  # fmt: skip
# not message/rfc822: an attached message is parsed as one by the listing and not checked
# for magic there (it has no bytes of its own); the builder here cannot make one from bytes
EXTENSIONS = (
    "pdf", "docx", "doc", "exe", "scr", "zip", "7z", "jpg", "png", "svg", "html", "txt",
    "rtf", "eml", "ics", "bin", "dat", "PDF", "Exe",
)  # fmt: skip

declared_types = st.one_of(
    st.sampled_from(KNOWN_TYPES),
    st.from_regex(r"(application|image|text|audio|video)/[a-z][a-z0-9.+-]{0,20}", fullmatch=True),
)
names = st.builds(
    lambda stem, ext: f"{stem}.{ext}" if ext else stem,
    st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True),
    st.one_of(st.sampled_from(EXTENSIONS), st.from_regex(r"[a-z0-9]{0,5}", fullmatch=True)),
)


@cache
def _documents() -> tuple[bytes, ...]:
    return (docs.pdf_plain(), docs.docx_plain(1))


contents = st.one_of(
    st.builds(lambda magic, tail: magic + tail, st.sampled_from(MAGIC), st.binary(max_size=40)),
    st.integers(0, 1).map(lambda i: _documents()[i]),
    st.binary(min_size=1, max_size=60),
    st.sampled_from([b"<html><body>hi</body></html>", b"plain words\r\n", b"From: a\r\nTo: b\r\n"]),
)


def _listed(raw: bytes) -> str | None:
    safe = sanitize_message(raw)
    found = [w for w in safe.warnings if w.code == "mime_type_mismatch"]
    assert len(found) <= 1
    return found[0].severity if found else None


def _downloaded(raw: bytes) -> str | None:
    store = InMemoryMailStore("work")
    ref = store.add_message("INBOX", raw)
    account = AccountConfig(name="work", address="me@work.example")
    service = MailboxService(account, store, downloads=InMemoryDownloads())
    result = service.download_attachment(ref, "2")
    found = [w for w in result.warnings if w.code == "mime_type_mismatch"]
    assert len(found) <= 1
    return found[0].severity if found else None


def _extracted(data: bytes, declared: str, name: str) -> str | None:
    result = extract_attachment_text(data, content_type=declared, filename=name, options=IN_PROCESS)
    found = [w for w in result.warnings if w.code == "mime_type_mismatch"]
    assert len(found) <= 1
    return found[0].severity if found else None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(declared=declared_types, name=names, data=contents)
def test_list_download_and_extract_agree_on_a_type_mismatch(
    declared: str, name: str, data: bytes
) -> None:
    """The listing and the download always agree with the rule; the extractor agrees with
    them whenever the bytes have a magic number and it can read them (it refuses other
    binaries with UnsupportedAttachment, and only it reads text kinds, which have no magic)."""
    raw = attachment_message(name, data, declared)
    verdict = type_mismatch_severity(declared, data, name)
    assert _listed(raw) == verdict
    assert _downloaded(raw) == verdict
    try:
        extracted = _extracted(data, declared, name)
    except (UnsupportedAttachment, AttachmentUnreadable):
        return
    if sniff_content_type(data[:16]) is not None:
        assert extracted == verdict


def test_the_sites_no_longer_disagree_where_one_was_wrong() -> None:
    """Cases where the sites used to disagree: a .docx declared as such (the download's
    exact comparison warned), a PDF labelled application/x-pdf (the listing warned), a
    generic download label (the listing warned), a PE/PDF polyglot labelled PDF (the
    extractor read it as a PDF and did not warn)."""
    pdf, docx = _documents()
    cases = [
        (DOCX, "report.docx", docx, None),
        ("application/x-pdf", "scan.pdf", pdf, None),
        ("application/x-download", "scan.pdf", pdf, None),
        ("application/pdf", "scan.pdf", b"MZ\x90\x00" + pdf, "adversarial"),
        ("image/png", "photo.png", b"\xff\xd8\xff\xe0" + b"\x00" * 30, "informational"),
    ]
    for declared, name, data, expected in cases:
        raw = attachment_message(name, data, declared)
        assert type_mismatch_severity(declared, data, name) == expected, declared
        assert _listed(raw) == expected, declared
        assert _downloaded(raw) == expected, declared
    assert _extracted(docx, DOCX, "report.docx") is None
    assert _extracted(pdf, "application/x-pdf", "scan.pdf") is None
    assert _extracted(b"MZ\x90\x00" + pdf, "application/pdf", "scan.pdf") == "adversarial"
