"""``text._nfkc`` (NFKC in pieces cut before a newline) answers exactly what the normalizer
answers for the whole text, on text built to reach across the cuts: combining marks, Hangul
jamo and the vowel signs that compose with the starter before them, compatibility characters
(``№``, ``…``, ligatures, full-width letters, no-break spaces), right after or before a
newline, in texts far longer than one piece."""

from __future__ import annotations

import unicodedata2
from hypothesis import given, settings
from hypothesis import strategies as st

from mailguard_core.sanitize import text as text_module
from mailguard_core.sanitize.text import _nfkc

#: characters whose NFKC depends on their neighbours or is not themselves
_TRICKY = [
    "\u0301", "\u0308", "\u0327", "\u0323", "\u0345", "\u0344", "\u0f73", "\u0f71", "\u0f72",
    "\u1100", "\u1161", "\u11a8", "\u11c2", "\uac00", "\uac01", "\u3131", "\u09c7", "\u09be",
    "\u0b47", "\u0b3e", "\u0dd9", "\u0dcf", "\u1025", "\u102e", "\u2116", "\u2026", "\u00a0",
    "\ufb01", "\uff21", "\u212b", "\u2126", "\u1e9b", "\u00c5", "A", "e", "\u0435",
    "\u0418", "\u0306", "\u3099", "\u304b", "\u309b", "\u2460", "\u00bd", "\u0130", "\u017f",
    "\U0001d400", "\U00011099", "\U000110ba", "\U00011131", "\U00011127", "\ud800",
]  # fmt: skip
_CHARS = st.one_of(
    st.sampled_from(_TRICKY),
    st.sampled_from(_TRICKY),
    st.sampled_from(_TRICKY),
    st.sampled_from(["\n", "\n", "\r", " "]),
    st.characters(codec="utf-8"),
    st.characters(min_codepoint=0x300, max_codepoint=0x36F),
    st.characters(min_codepoint=0x1100, max_codepoint=0x11FF),
    st.characters(min_codepoint=0x0900, max_codepoint=0x0DFF),
)
_SHORT = st.text(alphabet=_CHARS, max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.lists(_SHORT, min_size=1, max_size=40), st.integers(min_value=1, max_value=60))
def test_pieces_normalize_as_the_whole(parts: list[str], piece: int) -> None:
    """Small pieces (1-60 characters) so that many cuts fall beside the tricky characters."""
    text = "\n".join(parts)
    saved = text_module._NFKC_PIECE
    text_module._NFKC_PIECE = piece
    try:
        assert _nfkc(text) == unicodedata2.normalize("NFKC", text)
    finally:
        text_module._NFKC_PIECE = saved


@settings(max_examples=40, deadline=None)
@given(_SHORT, st.sampled_from(_TRICKY), st.integers(min_value=1, max_value=4))
def test_long_text_with_default_pieces(line: str, ch: str, runs: int) -> None:
    """A text several default pieces long, a tricky character at each newline."""
    body = (("x" * 97 + "\n" + ch + line + ch) * 60) * runs
    assert len(body) > text_module._NFKC_PIECE
    assert _nfkc(body) == unicodedata2.normalize("NFKC", body)


def test_every_piece_size_on_marks_around_newlines() -> None:
    """Every cut place of a text dense with marks, jamo and vowel signs beside newlines."""
    pairs = list(zip(_TRICKY, _TRICKY[3:], strict=False))
    text = "".join(f"{a}{b}\n{c}" for a in _TRICKY[:40] for b, c in pairs)
    saved = text_module._NFKC_PIECE
    try:
        for piece in range(1, 12):
            text_module._NFKC_PIECE = piece
            assert _nfkc(text) == unicodedata2.normalize("NFKC", text), piece
    finally:
        text_module._NFKC_PIECE = saved


def test_pieces_are_cut_before_a_newline_only() -> None:
    """One long line without a newline is one piece; the cut text still normalizes fully."""
    one_line = "\u2116" * (3 * text_module._NFKC_PIECE)
    assert _nfkc(one_line) == "No" * (3 * text_module._NFKC_PIECE)
    lines = ("a\u0308\n\u0301" * 2_000) + "\u2026"
    assert _nfkc(lines) == unicodedata2.normalize("NFKC", lines)
    assert _nfkc(lines).endswith("...")
