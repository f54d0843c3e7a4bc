"""Hostile documents end within the isolation limits with a result or a typed error.

Each runs in the real child process with its real limits; the assertion on elapsed time is
a bound (the wall-clock limit plus start-up), not a performance target.
"""

from __future__ import annotations

import time

import pytest

from mailguard_core import ExtractOptions, extract_attachment_text
from mailguard_core.model.errors import (
    AttachmentUnreadable,
    ExtractionLimitExceeded,
    MailguardError,
)
from mailguard_core.sanitize.extract import ExtractLimits
from mailguard_core.sanitize.extract.run import extract_isolated
from tests.support import documents as docs

WALL = 20.0
OPTIONS = ExtractOptions(wall_seconds=WALL, memory_bytes=256 * 1024 * 1024)
pytestmark = pytest.mark.slow


def _timed(data: bytes, options: ExtractOptions = OPTIONS) -> tuple[object, float]:
    start = time.monotonic()
    try:
        outcome: object = extract_attachment_text(
            data, content_type="application/octet-stream", options=options
        )
    except MailguardError as exc:
        outcome = exc
    elapsed = time.monotonic() - start
    assert elapsed < WALL + 10
    return outcome, elapsed


def test_pdf_decompression_bomb_ends_at_the_memory_limit() -> None:
    outcome, _ = _timed(docs.pdf_decompression_bomb(400))
    assert isinstance(outcome, ExtractionLimitExceeded), outcome


def test_pdf_deeply_nested_objects_are_flagged_not_silently_empty() -> None:
    """pdfium drops what lies deeper than 64 levels without an error: the result must say
    the document was not read whole (fail closed, never a silent empty document)."""
    outcome, _ = _timed(docs.pdf_deep_nesting(200_000))
    assert not isinstance(outcome, Exception), outcome
    limits = [w.detail for w in outcome.warnings if w.code == "mime_limit_exceeded"]  # type: ignore[attr-defined]
    assert limits == [{"limit": "pdf_nesting_depth"}]


def test_pdf_huge_page_count_reads_only_max_pages() -> None:
    data = docs.pdf_many_pages(50_000)
    outcome, _ = _timed(data, ExtractOptions(wall_seconds=WALL, max_pages=20))
    assert not isinstance(outcome, Exception), outcome
    assert outcome.pages == 50_000  # type: ignore[attr-defined]
    assert outcome.text.count("Page text here") == 20  # type: ignore[attr-defined]
    limits = [w.detail for w in outcome.warnings if w.code == "mime_limit_exceeded"]  # type: ignore[attr-defined]
    assert limits == [{"limit": "max_pages"}]


def test_docx_zip_bomb_stops_at_the_part_limit() -> None:
    outcome, _ = _timed(docs.docx_zip_bomb(300))
    assert isinstance(outcome, ExtractionLimitExceeded), outcome


def test_docx_zip_bomb_with_a_lying_size_stops_while_inflating() -> None:
    """The declared size in the zip directory is rewritten to 100 bytes: the bounded read
    stops at the limit all the same."""
    import struct

    data = bytearray(docs.docx_zip_bomb(100))
    at = data.find(b"word/document.xml") - 46  # its central directory record
    central = data.rfind(b"PK\x01\x02", 0, at + 4)
    struct.pack_into("<I", data, central + 24, 100)
    outcome, _ = _timed(bytes(data))
    assert isinstance(outcome, ExtractionLimitExceeded | AttachmentUnreadable), outcome


def test_docx_billion_laughs_is_not_expanded() -> None:
    outcome, _ = _timed(docs.docx_billion_laughs())
    assert isinstance(outcome, AttachmentUnreadable), outcome


def test_memory_limit_ends_a_document_too_big_for_it() -> None:
    data = docs.docx_big_text(15)
    outcome, _ = _timed(data, ExtractOptions(memory_bytes=48 * 1024 * 1024, max_xml_bytes=10**8))
    assert isinstance(outcome, ExtractionLimitExceeded | AttachmentUnreadable), outcome
    fine, _ = _timed(data, ExtractOptions(max_xml_bytes=10**8))
    assert not isinstance(fine, Exception), fine


def test_wall_clock_limit_kills_the_child() -> None:
    limits = ExtractLimits(max_chars=1000, max_pages=10, max_xml_bytes=10**6, max_events=10)
    start = time.monotonic()
    with pytest.raises(ExtractionLimitExceeded) as info:
        extract_isolated(
            "pdf", docs.pdf_plain(), None, limits,
            cpu_seconds=10, memory_bytes=2**28, wall_seconds=0.01,
        )  # fmt: skip
    assert time.monotonic() - start < 10
    assert "wall clock" in str(info.value)


def test_cpu_limit_is_set_in_the_child() -> None:
    """The child's RLIMIT_CPU (CPU used so far + 3 s) and RLIMIT_AS, read back by a child
    that reports its own limits; the parent's stay as they were."""
    import subprocess
    import sys

    resource = pytest.importorskip("resource")
    code = (
        "import resource\n"
        "from mailguard_core.sanitize.extract.run import _set_limits\n"
        "u = resource.getrusage(resource.RUSAGE_SELF)\n"
        "_set_limits(3, 100 * 2**20)\n"
        "print(resource.getrlimit(resource.RLIMIT_CPU)[0],"
        " resource.getrlimit(resource.RLIMIT_AS)[0], int(u.ru_utime + u.ru_stime))\n"
    )
    before = resource.getrlimit(resource.RLIMIT_CPU)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, text=True)
    cpu, address_space, used = (int(x) for x in out.stdout.split())
    assert used + 3 <= cpu <= used + 4
    assert 100 * 2**20 < address_space < 4 * 2**30
    assert resource.getrlimit(resource.RLIMIT_CPU) == before


def test_each_document_gets_a_fresh_child_and_a_standby_waits() -> None:
    """The standby child is used for one call only; a new one is waiting afterwards."""
    from mailguard_core.sanitize.extract import run

    data = docs.docx_plain(1)
    extract_attachment_text(data, content_type="application/octet-stream", options=OPTIONS)
    first = run._standby
    assert first is not None and first.poll() is None
    extract_attachment_text(data, content_type="application/octet-stream", options=OPTIONS)
    second = run._standby
    assert second is not None and second is not first
    assert first.wait(timeout=30) == 0  # it did its one job and exited
    run.discard_standby()
    assert run._standby is None and second.poll() is not None
