"""RFC 2047 encoded words: the stdlib's reading of well-formed headers, total on the rest."""

from __future__ import annotations

import pytest

from mailguard_core.adapters import imap_support
from mailguard_core.sanitize import sanitize_message
from mailguard_core.sanitize.encoded_words import split_words
from mailguard_core.sanitize.headers import decode_value
from mailguard_core.sanitize.warnings import WarningCollector
from mailguard_core.search import matching as search_matching


def _decode(value: str) -> tuple[str, set[str]]:
    warnings = WarningCollector()
    return decode_value(value, location="header:subject", warnings=warnings), warnings.codes()


@pytest.mark.parametrize(
    ("value", "chunks"),
    [
        ("plain text", [("plain text", None)]),
        ("=?utf-8?q?a_b=3Dc?=", [(b"a b=c", "utf-8")]),
        ("=?UTF-8?B?w6k=?=", [(b"\xc3\xa9", "utf-8")]),
        ("=?utf-8?b?w6k?=", [(b"\xc3\xa9", "utf-8")]),  # padding restored
        # whitespace between two words is dropped, the words join as bytes
        ("=?utf-8?q?a=C3?=  =?UTF-8?q?=A9?=", [(b"a\xc3\xa9", "utf-8")]),
        # other text between words stays, as does text around them (the lead is stripped)
        (
            "  re: =?utf-8?q?x?= and =?iso-8859-1?q?=E9?= end",
            [
                ("re: ", None),
                (b"x", "utf-8"),
                (" and ", None),
                (b"\xe9", "iso-8859-1"),
                (" end", None),
            ],
        ),
        ("=?utf-8?q?a?= =?iso-8859-1?q?b?=", [(b"a", "utf-8"), (b"b", "iso-8859-1")]),
        ("=?utf-8*en?q?hi?=", [(b"hi", "utf-8")]),  # RFC 2231 language suffix
        ("=?iso-8859-1?q?Fr\u00f6sche?=", [(b"Fr\xf6sche", "iso-8859-1")]),  # raw 8-bit
        ("x =?utf-8?q?=ZZ=4?=", [("x ", None), (b"=ZZ=4", "utf-8")]),  # bad escapes kept
        ("", []),
    ],
)
def test_split_words(value: str, chunks: list[tuple[object, object]]) -> None:
    assert split_words(value) == chunks


@pytest.mark.parametrize(
    "value",
    ["=?utf-8?b?A?=", "=?utf-8?b?AAAAA?=", "=?utf-8?q?\u4e2d?=", "=?utf-8?b?\u4e2d\u6587?="],
)
def test_an_undecodable_word_stays_literal_text(value: str) -> None:
    assert split_words(value) == [(value, None)]
    assert split_words(f"=?utf-8?q?ok?= {value}") == [(b"ok", "utf-8"), (f" {value}", None)]


def test_a_bad_base64_subject_no_longer_makes_the_message_unreadable() -> None:
    """The stdlib raised HeaderParseError here, which the sanitizer reported as its own bug."""
    raw = b"From: =?utf-8?b?A?= <a@example.org>\r\nSubject: =?utf-8?b?A?= hi\r\n\r\nbody\r\n"
    safe = sanitize_message(raw)
    assert safe.untrusted["subject"] == "=?utf-8?b?A?= hi"
    assert safe.untrusted["from"] == {"name": "=?utf-8?b?A?=", "address": "a@example.org"}
    assert safe.body_text == "body"


def test_raw_utf8_beside_an_encoded_word_is_text_not_escapes() -> None:
    raw = "Subject: \u4e2d\u6587 =?utf-8?q?caf=C3=A9?=\r\n\r\nx".encode()
    safe = sanitize_message(raw)
    assert safe.untrusted["subject"] == "\u4e2d\u6587 caf\u00e9"
    assert "charset_fallback" not in safe.warning_codes


def test_latin1_text_beside_an_encoded_word_is_no_charset_fallback() -> None:
    assert _decode("Caf\u00e9 =?utf-8?q?abc?=") == ("Caf\u00e9 abc", set())


def test_a_lying_charset_still_falls_back_with_a_warning() -> None:
    text, codes = _decode("=?x-no-such-charset?q?abc?=")
    assert text == "abc"
    assert codes == {"charset_fallback"}


def test_local_search_and_imap_filenames_survive_a_bad_word() -> None:
    assert search_matching._decoded("=?utf-8?b?A?= =?utf-8?q?ok?=") == "=?utf-8?b?A?= ok"
    params = {"filename": "=?utf-8?q?r=C3=A9sum=C3=A9.pdf?="}
    assert imap_support._decode_name(params, "filename") == "r\u00e9sum\u00e9.pdf"
    assert imap_support._decode_name({"filename": "=?utf-8?b?A?="}, "filename") == "=?utf-8?b?A?="


def test_a_padded_header_value_is_read_only_as_far_as_it_can_show() -> None:
    word = "=?utf-8?q?Zypernsonne_qu=C3=A4lte_Max?= "
    value = word * 2000  # 80 KB of words for a 998-character subject
    text, codes = _decode(value)
    assert len(text) == 998
    assert text.startswith("Zypernsonne quälte MaxZypernsonne")  # no space between words
    assert codes == {"mime_limit_exceeded"}
    warnings = WarningCollector()
    decode_value(value[:15_000], location="header:subject", warnings=warnings)
    assert not warnings.items()  # under the read limit: no warning, the same first 998
