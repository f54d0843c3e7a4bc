"""Look-alike domains, identity checks, safe file names and magic-byte sniffing."""

from __future__ import annotations

import pytest

from mailguard_core.sanitize import lookalike, safe_filename, sniff_content_type
from mailguard_core.sanitize.files import type_mismatch


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("www.example.co.uk", "example.co.uk"),
        ("a.b.example.com", "example.com"),
        ("xn--mnchen-3ya.de", "münchen.de"),
        ("localhost", "localhost"),
    ],
)
def test_registrable_domain_uses_the_bundled_suffix_list(domain: str, expected: str) -> None:
    """The bundled Public Suffix List gives the registrable domain without any network access."""
    assert lookalike.registrable(domain) == expected


@pytest.mark.parametrize(
    ("domain", "mixed"),
    [
        ("p\u0430ypal.com", True),       # Cyrillic a in a Latin label
        ("xn--pypal-4ve.com", True),     # the same, as punycode
        ("пример.рф", False),            # wholly Cyrillic
        ("παράδειγμα.gr", False),        # wholly Greek
        ("ドメイン名例.jp", False),       # Katakana + Han: allowed for Japanese
        ("例子.中国", False),
        ("example.com", False),
        ("bücher.de", False),            # Latin with diacritics is one script
    ],
)  # fmt: skip
def test_mixed_script_labels_follow_uts39_highly_restrictive(domain: str, mixed: bool) -> None:
    """A label mixing Latin with Cyrillic is flagged; single-script and CJK mixes are not."""
    assert lookalike.is_mixed_script(domain) is mixed


@pytest.mark.parametrize(
    ("domain", "known", "hit"),
    [
        ("p\u0430ypal.com", ("paypal.com",), "paypal.com"),
        ("rnicrosoft.com", ("microsoft.com",), "microsoft.com"),
        ("examp1e.net", ("example.net",), "example.net"),
        ("g00gle.com", ("google.com",), "google.com"),
        ("vvells.com", ("wells.com",), "wells.com"),  # vv/w: not in Unicode's data
        ("cliscord.com", ("discord.com",), "discord.com"),  # cl/d: likewise
        ("\uff50\uff41\uff59\uff50\uff41\uff4c.com", ("paypal.com",), "paypal.com"),  # fullwidth
        ("bücher.de", ("bucher.de",), None),  # an accent makes another, legitimate name
        ("exämple.com", ("example.com",), None),
        ("paypal.com", ("paypal.com",), None),
        ("mail.paypal.com", ("paypal.com",), None),
        ("paypal.co.uk", ("paypal.com",), None),
        ("google.com", ("gmail.com",), None),
    ],
)
def test_confusable_skeleton_matches_known_domains_only_when_different(
    domain: str, known: tuple[str, ...], hit: str | None
) -> None:
    """Same skeleton, different registrable domain: a confusable; the domain itself is not."""
    assert lookalike.confusable_with(domain, known) == hit


def test_domains_and_folder_names_share_one_skeleton() -> None:
    """The domain skeleton is the skeleton of names (one confusables table) keeping accents."""
    from mailguard_core.model.skeleton import skeleton

    assert lookalike.skeleton("p\u0430ypal.com") == skeleton("paypal.com", marks=True)
    assert skeleton("bücher", marks=True) != skeleton("bucher", marks=True)
    assert skeleton("bücher") == skeleton("bucher")  # folder names: accents dropped


@pytest.mark.parametrize(
    ("char", "ascii"),
    [("\u0456", "i"), ("\u0392", "b"), ("\u041d", "h"), ("\uff42", "b"), ("\uff37", "w"),
     ("\u210a", "g"), ("é", "é"), ("ß", "ß"), ("a", "a")],
)  # fmt: skip
def test_ascii_prototype_of_one_character(char: str, ascii: str) -> None:
    """Cyrillic, Greek (capitals too), fullwidth and letterlike look-alikes have one ASCII
    letter; accented letters and letters without a look-alike stay themselves."""
    assert lookalike.ascii_prototype(char) == ascii


def test_idn_detection_sees_punycode_and_unicode() -> None:
    """Both xn-- labels and raw non-ASCII domains are IDNs."""
    assert lookalike.is_idn("xn--mnchen-3ya.de") and lookalike.is_idn("münchen.de")
    assert not lookalike.is_idn("example.com")


def test_domains_in_text_need_a_public_suffix() -> None:
    """'Booking.com' is a domain; 'J.R.R. Tolkien' and 'v1.2' are not."""
    assert lookalike.domains_in("Booking.com Support") == ["booking.com"]
    assert lookalike.domains_in("J.R.R. Tolkien v1.2") == []


def test_valid_provider_domains_are_not_confusable_with_each_other() -> None:
    """Real mail providers (from the typo corpus's valid list) never collide by skeleton."""
    valid = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "icloud.com",
             "mail.ru", "yandex.ru", "gmx.de", "web.de", "comcast.net", "live.com")  # fmt: skip
    for domain in valid:
        assert lookalike.confusable_with(domain, tuple(d for d in valid if d != domain)) is None


@pytest.mark.parametrize(
    ("name", "clean", "codes"),
    [
        ("report.pdf", "report.pdf", set()),
        ("../../etc/passwd", "passwd", {"filename_rewritten"}),
        ("C:\\Users\\x\\evil.bat", "evil.bat", {"filename_rewritten"}),
        ("CON.txt", "_CON.txt", {"filename_rewritten"}),
        ("invoice\u202efdp.exe", "invoicefdp.exe", {"filename_spoof", "filename_rewritten"}),
        ("statement.pdf.exe", "statement.pdf.exe", {"filename_spoof"}),
        ("photo.jpg      .scr", "photo.jpg      .scr", {"filename_spoof"}),
        ("a\x00b.txt", "ab.txt", {"filename_rewritten"}),
        ("...", "fallback.bin", {"filename_rewritten"}),
        ("Отчёт 2026.docx", "Отчёт 2026.docx", set()),
    ],
)
def test_safe_filename(name: str, clean: str, codes: set[str]) -> None:
    """Path parts, reserved names, controls and bidi go; deceptive names are flagged."""
    got, warnings = safe_filename(name, fallback="fallback.bin")
    assert got == clean
    assert {w.code for w in warnings} == codes


def test_safe_filename_without_a_name_uses_the_fallback_silently() -> None:
    """A missing name is not a rewrite."""
    assert safe_filename(None, fallback="part-2.bin") == ("part-2.bin", [])


def test_safe_filename_caps_the_length_and_keeps_the_extension() -> None:
    """Very long names are cut on a grapheme boundary with the extension kept."""
    got, warnings = safe_filename("a" * 500 + ".pdf", fallback="x")
    assert len(got) <= 200 and got.endswith(".pdf")
    assert {w.code for w in warnings} == {"filename_rewritten"}


@pytest.mark.parametrize(
    ("data", "ctype"),
    [
        (b"%PDF-1.7", "application/pdf"),
        (b"MZ\x90\x00", "application/x-msdownload"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"PK\x03\x04", "application/zip"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8", "image/webp"),
        (b"hello", None),
    ],
)
def test_sniff_content_type_by_magic_bytes(data: bytes, ctype: str | None) -> None:
    """Known magic prefixes map to their content type; unknown data gives None."""
    assert sniff_content_type(data) == ctype


def test_type_mismatch_allows_zip_based_office_documents() -> None:
    """A .docx is a zip; an exe behind a .pdf name or type is a mismatch."""
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert not type_mismatch(docx, b"PK\x03\x04rest", "a.docx")
    assert type_mismatch("application/pdf", b"MZ\x90", "a.pdf")
    assert type_mismatch("application/octet-stream", b"MZ\x90", "a.pdf")
    assert not type_mismatch("application/octet-stream", b"MZ\x90", "setup.exe")
