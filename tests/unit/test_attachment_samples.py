"""Public sample files written by real producers (tests/data/attachments/README.md names the
source, commit and licence of each), and the PDF nesting check.

The expected phrases of the PDFs were read with an independent extractor (pypdf 6, see the
README), never copied from mailguard's output; the Word files are checked against
python-docx's own paragraph text at run time; the calendar and the message against their
source text.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailguard_core import AttachmentText, ExtractOptions, extract_attachment_text
from mailguard_core.sanitize.extract.pdf import PDFIUM_MAX_DEPTH, nesting_depth
from tests.support import documents as docs

DATA = Path(__file__).resolve().parents[1] / "data" / "attachments"
OPTIONS = ExtractOptions(isolate=False)
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

#: name -> (detected type, pages, phrases an independent reader finds in it)
SAMPLES: dict[str, tuple[str, int | None, tuple[str, ...]]] = {
    # XeTeX + xdvipdfmx
    "crazyones.pdf": (
        PDF,
        1,
        (
            "The Crazy Ones",
            "October 14, 1998",
            "The round pegs in the square holes.",
            "The ones who see things differently.",  # pypdf: "diﬀerently" (ligature, NFKC)
            "We make tools for these kinds of people.",
        ),
    ),
    # LibreOffice 6.4 Writer, six scripts
    "hello-world.pdf": (
        PDF,
        1,
        ("Hello World", "مرحبا بالعالم", "Привет, мир", "你好世界", "สวัสดีชาวโลก", "こんにちは世界"),
    ),
    # cairo 1.16 (a browser's print to PDF, with its page header)
    "selenium-pypdf-issue-177.pdf": (
        PDF,
        1,
        ("Document 1 sans titre Page 1 sur 1", "Hello World"),
    ),
    # Skia/PDF m136, Google Docs Renderer: two pages numbered 1 and 2
    "two-different-pages.pdf": (PDF, 2, ("1", "2")),
    "txt-font-props.docx": (DOCX, None, ()),
    "par-hyperlinks.docx": (DOCX, None, ()),
    "example.ics": (
        "text/calendar",
        None,
        (
            "Pick up bicycle from the workshop.",
            "Morning ride with the team.",
            "another_friend@example.com",
            "late_joiner@example.com",
        ),
    ),
    "basic_email.eml": ("message/rfc822", None, ("Plain email.", "Hope it works well!")),
}


def _extract(name: str, options: ExtractOptions = OPTIONS) -> AttachmentText:
    data = (DATA / name).read_bytes()
    return extract_attachment_text(
        data, content_type="application/octet-stream", filename=name, options=options
    )


def test_every_committed_sample_is_listed_with_its_licence() -> None:
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    files = sorted(p.name for p in DATA.iterdir() if p.name != "README.md")
    assert files == sorted(SAMPLES)
    for name in files:
        assert f"`{name}`" in readme, name
    assert sum((DATA / n).stat().st_size for n in files) < 1_500_000


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_public_sample_is_read_whole_without_warnings(name: str) -> None:
    detected, pages, phrases = SAMPLES[name]
    result = _extract(name)
    meta = result.to_dict()["meta"]
    assert meta["detected_type"] == detected  # sniffed: the declared type is octet-stream
    assert meta["pages"] == pages
    assert meta["truncated"] is False
    assert result.warnings == ()  # ordinary documents: nothing hidden, nothing flagged
    text = result.text
    for phrase in phrases:
        assert unicodedata.normalize("NFKC", phrase) in text, phrase


@pytest.mark.parametrize("name", ["txt-font-props.docx", "par-hyperlinks.docx"])
def test_word_sample_matches_python_docx(name: str) -> None:
    """Every non-empty paragraph python-docx reads is in the text, in the same order."""
    import docx

    paragraphs = [p.text for p in docx.Document(str(DATA / name)).paragraphs if p.text.strip()]
    assert len(paragraphs) >= 3
    text = _extract(name).text
    at = 0
    for paragraph in paragraphs:
        found = text.find(" ".join(paragraph.split()), at)
        assert found >= 0, paragraph
        at = found + 1


def test_word_sample_keeps_its_hyperlink_text() -> None:
    text = _extract("par-hyperlinks.docx").text
    assert "One awesome hyperlink." in text


def test_pdf_page_count_of_a_two_page_sample_and_its_page_order() -> None:
    text = _extract("two-different-pages.pdf").text
    assert text.split() == ["1", "2"]


def test_public_samples_in_the_isolated_child_give_the_same_result() -> None:
    for name in ("crazyones.pdf", "txt-font-props.docx"):
        assert _extract(name, ExtractOptions()).to_dict() == _extract(name).to_dict()


# --- nesting: pdfium drops what lies deeper than 64 levels, silently ----------------------


def _page_with_nesting(depth: int) -> bytes:
    """A page with visible text whose dictionary also holds an array ``depth`` deep."""
    nested = b"[" * depth + b"]" * depth
    return docs._pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Length 47 >>\nstream\n"
            b"BT /F1 12 Tf 72 700 Td (Visible words here) Tj ET\nendstream",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Deep " + nested
            + b" /Contents 4 0 R /Resources << /Font << /F1 3 0 R >> >> >>",
        ]
    )  # fmt: skip


def _limits(result: AttachmentText) -> list[object]:
    return [w.detail for w in result.warnings if w.code == "mime_limit_exceeded"]


@pytest.mark.parametrize("depth", [PDFIUM_MAX_DEPTH, PDFIUM_MAX_DEPTH + 10, 100_000])
def test_pdf_nested_deeper_than_pdfium_reads_is_flagged(depth: int) -> None:
    """The page dictionary (at depth 1) holds an array ``depth`` deep: more than 64 levels in
    all. The visible text is still read, and the result says the file was not read whole."""
    result = extract_attachment_text(_page_with_nesting(depth), content_type=PDF, options=OPTIONS)
    assert "Visible words here" in result.text
    assert _limits(result) == [{"limit": "pdf_nesting_depth"}]


def test_pdf_nested_within_pdfium_limit_is_not_flagged() -> None:
    data = _page_with_nesting(PDFIUM_MAX_DEPTH - 1)
    assert nesting_depth(data) == PDFIUM_MAX_DEPTH
    result = extract_attachment_text(data, content_type=PDF, options=OPTIONS)
    assert "Visible words here" in result.text
    assert _limits(result) == []


@pytest.mark.parametrize(
    "body",
    [
        b"(" + b"[" * 200 + b")",  # a literal string
        b"(a \\( b (" + b"<<" * 200 + b") c)",  # escaped and balanced parentheses
        b"<< /Length 200 >>\nstream\n" + b"[" * 200 + b"\nendstream",  # stream data
        b"[ 1 2 ] % " + b"[" * 200 + b"\n",  # a comment
    ],
)
def test_brackets_in_strings_streams_and_comments_do_not_count(body: bytes) -> None:
    data = docs._pdf([b"<< /Type /Catalog /Pages 2 0 R >>", body])
    assert nesting_depth(data) == 1


def test_nesting_depth_counts_arrays_and_dictionaries_together() -> None:
    assert nesting_depth(b"<< /A [ << /B [ [ ] ] >> ] >>") == 5
    assert nesting_depth(b"]]]] >> [") == 1  # stray closers never go below zero
    assert nesting_depth(b"[" * 1000, stop_above=64) == 65


@given(st.binary(max_size=4096))
@settings(max_examples=300, deadline=None)
def test_nesting_depth_is_total_and_bounded_by_the_openers(data: bytes) -> None:
    depth = nesting_depth(data)
    assert 0 <= depth <= data.count(b"[") + data.count(b"<<")
