"""Unicode normalization and invisible-character stripping (duty 5 of the envelope spec).

Order: line endings, strip, NFKC (unicodedata2's current Unicode), strip again (NFKC can
join what a stripped character separated), so that the result is a fixed point. A long text
is normalized in pieces cut before a newline (:func:`_nfkc`: the same result, and a piece
already in NFKC costs only the normalizer's quick check).

Character classes and what is kept:

- zero-width / invisible formatting (``unicode_zero_width_stripped``): every format
  character (category Cf) not listed below, soft hyphen, Hangul fillers, variation selectors
  other than VS15/VS16, the combining grapheme joiner. ZWJ is kept inside emoji sequences
  (emoji ZWJ emoji); ZWNJ and ZWJ are kept between two letters of a non-Latin script
  (Persian, Indic), where they change spelling.
- bidi controls (``unicode_bidi_control_stripped``): embeddings, overrides, isolates
  (U+202A-202E, U+2066-2069). The marks LRM, RLM and ALM (U+200E, U+200F, U+061C) are
  stripped too but do not raise the warning: they only set the direction of neutral
  characters and are common in legitimate Hebrew and Arabic mail.
- controls (``unicode_control_stripped``): C0 except tab and newline, DEL, C1,
  surrogates, the noncharacters U+FFFE/U+FFFF.
- tag characters U+E0000-U+E007F (``unicode_tag_chars_stripped``, "ASCII smuggling"), except
  a well-formed emoji flag tag sequence (black flag, 1-7 tag letters/digits, cancel tag).
"""

from __future__ import annotations

import functools
import re

import unicodedata2

from mailguard_core.sanitize.warnings import SecurityWarning, WarningCollector

ZERO_WIDTH = "unicode_zero_width_stripped"
BIDI = "unicode_bidi_control_stripped"
CONTROL = "unicode_control_stripped"
TAG = "unicode_tag_chars_stripped"

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_BIDI_MARKS = frozenset("\u200e\u200f\u061c")
_KEEP_VS = frozenset("\ufe0e\ufe0f")
_ZWJ = "\u200d"
_ZWNJ = "\u200c"
_BLACK_FLAG = "\U0001f3f4"
_CANCEL_TAG = "\U000e007f"
_FLAG_TAG_RE = re.compile("\U0001f3f4([\U000e0030-\U000e0039\U000e0061-\U000e007a]{1,7})\U000e007f")


@functools.cache
def _invisible_chars() -> frozenset[str]:
    """Every character that may be stripped, surrogates aside (built once, lazily)."""
    # format characters (Cf) only occur below U+20000 and in plane 14
    candidates = (*range(0x20000), *range(0xE0000, 0xE1000))
    singles = {chr(c) for c in candidates if unicodedata2.category(chr(c)) == "Cf"}
    singles |= set("\u00ad\u034f\u115f\u1160\u3164\uffa0\ufffe\uffff")
    singles |= {chr(c) for c in range(0xFE00, 0xFE10)}
    singles |= {chr(c) for c in range(0xE0100, 0xE01F0)}
    singles |= {chr(c) for c in range(0xE0000, 0xE0080)}
    singles |= {chr(c) for c in range(0x20)} - {"\t", "\n"}
    singles |= {chr(c) for c in range(0x7F, 0xA0)}
    return frozenset(singles)


def _char_class(chars: frozenset[str]) -> re.Pattern[str]:
    """A character class of ``chars`` (as ranges) plus the surrogates."""
    ordered = sorted(chars)
    parts: list[str] = []
    start = prev = ord(ordered[0])
    for ch in [*ordered[1:], chr(0x10FFFF)]:
        code = ord(ch)
        if code == prev + 1 and ch != chr(0x10FFFF):
            prev = code
            continue
        parts.append(re.escape(chr(start)) + ("-" + re.escape(chr(prev)) if prev > start else ""))
        start = prev = code
    parts.append("\ud800-\udfff")
    return re.compile("[" + "".join(parts) + "]")


@functools.cache
def _invisible_class() -> re.Pattern[str]:
    """A pattern matching every character that may be stripped (built once, lazily)."""
    return _char_class(_invisible_chars())


@functools.cache
def _bmp_invisible_class() -> re.Pattern[str]:
    """The BMP part of :func:`_invisible_class`: it compiles to a bitmap, several times faster
    than the whole class (whose astral ranges the regex engine tests one by one)."""
    return _char_class(frozenset(c for c in _invisible_chars() if ord(c) < 0x10000))


@functools.cache
def _ascii_invisible() -> bytes:
    return bytes(ord(c) for c in sorted(_invisible_chars()) if ord(c) < 0x80)


def _has_invisible(text: str) -> bool:
    """True when ``text`` holds a character of :func:`_invisible_class` (fast pre-check)."""
    if text.isascii():
        data = text.encode("ascii")
        return len(data.translate(None, _ascii_invisible())) != len(data)
    if _bmp_invisible_class().search(text):
        return True
    if len(text.encode("utf-16-le", "surrogatepass")) == 2 * len(text):
        return False  # no character outside the BMP
    return _invisible_class().search(text) is not None


def _is_emoji(ch: str) -> bool:
    code = ord(ch)
    return (
        0x1F000 <= code <= 0x1FAFF
        or 0x2600 <= code <= 0x27BF
        or 0x2300 <= code <= 0x23FF
        or 0x2B00 <= code <= 0x2BFF
        or code in (0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139)
    )


def _is_non_latin_letter(ch: str) -> bool:
    return ch.isalpha() and not ch.isascii() and "LATIN" not in unicodedata2.name(ch, "")


def _classify(ch: str) -> str:
    code = ord(ch)
    if ch in _BIDI_CONTROLS:
        return BIDI
    if ch in _BIDI_MARKS:
        return "mark"
    if 0xE0000 <= code <= 0xE007F:
        return TAG
    if code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
        return CONTROL
    return ZERO_WIDTH


def _strip(text: str, counts: dict[str, int]) -> str:
    if not _has_invisible(text):
        return text
    pattern = _invisible_class()
    flags = {m.start() for m in _FLAG_TAG_RE.finditer(text)} if _BLACK_FLAG in text else set()
    keep_tags: set[int] = set()
    for start in flags:
        match = _FLAG_TAG_RE.match(text, start)
        if match:
            keep_tags.update(range(match.start() + 1, match.end()))
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        i = match.start()
        ch = text[i]
        if ch in _KEEP_VS or i in keep_tags:
            continue
        if ch in (_ZWJ, _ZWNJ) and 0 < i < len(text) - 1:
            before, after = text[i - 1], text[i + 1]
            if (
                ch == _ZWJ
                and (_is_emoji(before) or before in _KEEP_VS or 0x1F3FB <= ord(before) <= 0x1F3FF)
                and _is_emoji(after)
            ):
                continue
            if _is_non_latin_letter(before) and _is_non_latin_letter(after):
                continue
        out.append(text[last:i])
        last = i + 1
        cls = _classify(ch)
        counts[cls] = counts.get(cls, 0) + 1
    out.append(text[last:])
    return "".join(out)


#: a text longer than this is normalized in pieces of at least this many characters
_NFKC_PIECE = 500


def _nfkc(text: str) -> str:
    """``unicodedata2.normalize("NFKC", text)``, computed piece by piece, each piece cut just
    before a newline.

    A newline is a starter (combining class 0) that is the first of no composition and the
    second of none, and it is its own NFKC: no step of NFKC (decomposition, canonical
    reordering of the marks between two starters, composition with the last starter) reaches
    across it, so the normalization of the whole is the pieces' normalizations put together.
    Done so because the normalizer answers a text already in NFKC after a quick check, and
    normalizes the whole text at once when one character of it (``№``, ``…``, a no-break
    space) is not: cut into pieces, only the pieces that hold such a character cost the
    full normalization. ``tests/property/test_sanitize_nfkc.py`` compares it with the
    normalizer on generated text."""
    if len(text) <= _NFKC_PIECE:
        whole: str = unicodedata2.normalize("NFKC", text)
        return whole
    pieces: list[str] = []
    start = 0
    while start < len(text):
        cut = text.find("\n", start + _NFKC_PIECE)
        end = len(text) if cut < 0 else cut
        pieces.append(unicodedata2.normalize("NFKC", text[start:end]))
        start = end
    return "".join(pieces)


def normalize_text(text: str, location: str, warnings: WarningCollector) -> str:
    """NFKC-normalize ``text``, unify line endings and strip invisible characters.

    One counted warning per stripped class is added for ``location``.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    counts: dict[str, int] = {}
    text = _strip(text, counts)
    if not text.isascii():
        normalized = _nfkc(text)
        if normalized != text:
            text = _strip(normalized.replace("\r\n", "\n").replace("\r", "\n"), counts)
    for cls in (ZERO_WIDTH, BIDI, CONTROL, TAG):
        warnings.count(cls, location, counts.get(cls, 0))
    return text


def sanitize_text(
    text: str, *, location: str, max_chars: int | None = None
) -> tuple[str, list[SecurityWarning]]:
    """Normalize a short untrusted string (a folder name, a label) and list what was done."""
    warnings = WarningCollector()
    clean = normalize_text(text, location, warnings)
    if max_chars is not None:
        clean, cut = truncate_graphemes(clean, max_chars)
        if cut:
            warnings.add("body_truncated", location, {"limit": max_chars})
    return clean, warnings.items()


def _joins_previous(text: str, i: int) -> bool:
    """True when position ``i`` is inside a grapheme cluster started before it."""
    ch = text[i]
    code = ord(ch)
    if unicodedata2.category(ch) in ("Mn", "Mc", "Me"):
        return True
    if ch == _ZWJ or ch in _KEEP_VS or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F:
        return True
    if text[i - 1] == _ZWJ:
        return True
    if 0x1F1E6 <= code <= 0x1F1FF:
        run = 0
        j = i - 1
        while j >= 0 and 0x1F1E6 <= ord(text[j]) <= 0x1F1FF:
            run += 1
            j -= 1
        return run % 2 == 1
    return False


def truncate_graphemes(text: str, max_chars: int) -> tuple[str, bool]:
    """Cut ``text`` to at most ``max_chars`` characters without splitting a grapheme cluster."""
    if len(text) <= max_chars:
        return text, False
    cut = max(0, max_chars)
    steps = 0
    while cut > 0 and _joins_previous(text, cut) and steps < 64:
        cut -= 1
        steps += 1
    return text[:cut], True
