"""Unicode stage: NFKC, line endings, invisible-character classes, grapheme-safe truncation."""

from __future__ import annotations

import pytest

from mailguard_core.sanitize import sanitize_text
from mailguard_core.sanitize.text import normalize_text, truncate_graphemes
from mailguard_core.sanitize.warnings import WarningCollector


def _norm(text: str) -> tuple[str, dict[str, int]]:
    warnings = WarningCollector()
    out = normalize_text(text, "t", warnings)
    return out, {w.code: int(w.detail["count"]) for w in warnings.items()}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("a\u200bb", "unicode_zero_width_stripped"),
        ("a\u2060b", "unicode_zero_width_stripped"),
        ("a\u00adb", "unicode_zero_width_stripped"),
        ("a\ufeffb", "unicode_zero_width_stripped"),
        ("a\u202eb", "unicode_bidi_control_stripped"),
        ("a\u2066b", "unicode_bidi_control_stripped"),
        ("a\x00b", "unicode_control_stripped"),
        ("a\x1bb", "unicode_control_stripped"),
        ("a\x9bb", "unicode_control_stripped"),
        ("a\U000e0041b", "unicode_tag_chars_stripped"),
    ],
)
def test_each_invisible_class_is_stripped_and_counted(text: str, code: str) -> None:
    """One character of each class is removed and reported under its own code."""
    out, counts = _norm(text)
    assert out == "ab"
    assert counts == {code: 1}


def test_counts_are_per_class_per_location() -> None:
    """Several characters of one class give one warning with their count."""
    _, counts = _norm("\u200ba\u200bb\u200c")
    assert counts == {"unicode_zero_width_stripped": 3}


def test_bidi_marks_are_stripped_without_a_warning() -> None:
    """LRM, RLM and ALM are removed but do not raise the adversarial bidi warning."""
    out, counts = _norm("שלום\u200f!\u200e\u061c")
    assert out == "שלום!"
    assert counts == {}


def test_line_endings_become_newlines_and_tabs_survive() -> None:
    """CRLF and CR become LF; tab and newline are not controls to strip."""
    out, counts = _norm("a\r\nb\rc\td")
    assert out == "a\nb\nc\td"
    assert counts == {}


def test_nfkc_folds_compatibility_forms() -> None:
    """Fullwidth letters and ligatures become their plain forms."""
    assert _norm("\uff21\ufb01")[0] == "Afi"


def test_emoji_zwj_sequences_and_flag_tags_are_kept() -> None:
    """ZWJ between emoji and a well-formed subdivision flag tag sequence stay intact."""
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    scotland = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    out, counts = _norm(f"{family} {scotland}")
    assert out == f"{family} {scotland}"
    assert counts == {}


def test_tag_characters_after_a_flag_but_too_long_are_stripped() -> None:
    """ASCII smuggling behind a black flag is not mistaken for a flag sequence."""
    smuggled = "".join(chr(0xE0000 + ord(c)) for c in "ignoreall")
    out, counts = _norm("\U0001f3f4" + smuggled + "\U000e007f")
    assert out == "\U0001f3f4"
    assert counts["unicode_tag_chars_stripped"] == len(smuggled) + 1


def test_zwnj_inside_persian_word_is_kept_but_not_between_latin_letters() -> None:
    """ZWNJ carries spelling in Persian; between Latin letters it only hides."""
    assert _norm("می\u200cخواهم")[0] == "می\u200cخواهم"
    assert _norm("pay\u200cpal")[0] == "paypal"


def test_stripping_then_nfkc_is_a_fixed_point() -> None:
    """A mark split off by a stripped character composes; a second pass changes nothing."""
    once, _ = _norm("e\u200b\u0301")
    assert once == "\u00e9"
    assert _norm(once) == (once, {})


def test_truncation_never_splits_a_grapheme_cluster() -> None:
    """Cutting inside a ZWJ sequence or before a combining mark backs off to the cluster start."""
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    text, cut = truncate_graphemes("ab" + family, 4)
    assert cut and text == "ab"
    text, cut = truncate_graphemes("cafe\u0301", 4)
    assert cut and text == "caf"
    assert truncate_graphemes("short", 10) == ("short", False)


def test_truncation_keeps_regional_indicator_pairs_whole() -> None:
    """A flag (two regional indicators) is never cut in half."""
    flags = "\U0001f1e9\U0001f1ea\U0001f1eb\U0001f1f7"
    assert truncate_graphemes(flags, 3) == ("\U0001f1e9\U0001f1ea", True)


def test_sanitize_text_returns_clean_text_and_warnings() -> None:
    """The public helper for short strings reports what it stripped and where."""
    text, warnings = sanitize_text("IN\u202eBOX", location="folder", max_chars=3)
    assert text == "INB"
    assert {w.code for w in warnings} == {"unicode_bidi_control_stripped", "body_truncated"}
    assert all(w.location == "folder" for w in warnings)
