"""De-obfuscated readings of a text (:func:`variants`): invisible characters, look-alike
letters, letter spacing, leetspeak and encoded fragments undone."""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
from collections.abc import Iterator

from mailguard_core.sanitize.anchors import holds_ascii_folds

_INVISIBLE_RE = re.compile("[\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff\U000e0000-\U000e007f]")
_TAG_RE = re.compile("[\U000e0020-\U000e007e]")
_SPACED_RE = re.compile(r"(?<![A-Za-z])(?:[A-Za-z][ .\-_*·]{1,2}){3,}[A-Za-z](?![A-Za-z])")
#: :data:`_SPACED_RE` over :func:`_classes` of an ASCII text (letters ``a``, separators ``s``):
#: ``L (S{1,2} L){3,}`` is the same language as ``(L S{1,2}){3,} L``, so the same verdict
_SPACED_CLASS_RE = re.compile(rb"(?<!a)a(?:s{1,2}a){3,}(?!a)")
#: ``sasas`` or ``sassas`` in the classes: one regex search (its literal prefix ``sas`` is
#: looked for quickly), where two ``bytes`` searches over a text of two or three letters are
#: slow (the substring search skips little when the alphabet is that small)
_SPACED_HINT_RE = re.compile(rb"sass?as")
_SPACED_SEP_RE = re.compile(r"(?<=\w)[ .\-_*·](?=\w)")


def _unspace(run: str) -> str:
    """``i g n o r e  a l l`` -> ``ignore all``: single separators go, wider gaps are spaces."""
    return " ".join(_SPACED_SEP_RE.sub("", run).split())


#: a word of 4+ characters with at least two letters and two of the digits leetspeak uses
_LEET_WORD_RE = re.compile(
    r"(?<![\w@$])(?=(?:[a-z@$]*[013457]){2})(?=(?:[0-9@$]*[a-z]){2})[a-z0-9@$]{4,}(?![\w@$])",
    re.I,
)
#: a leet digit between two letters (``n0r``, ``r3v``): the cheap sign that leetspeak is there
_LEET_PAIR_RE = re.compile(r"[a-zA-Z][013457@$][a-zA-Z]")
_LEET = str.maketrans("0134578@$", "oieastbas")
#: anchored at a token start, so a short token is tried once, not once per character
_B64_RE = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}")
_HEX_RE = re.compile(r"(?<![0-9a-fA-F])(?:[0-9a-fA-F]{2}){12,}")
#: a whole token holding a percent escape (anchored at the token start: linear)
_PERCENT_RE = re.compile(r"(?<!\S)\S*?%[0-9A-Fa-f]{2}\S*")
_UNICODE_ESCAPE_RE = re.compile(r"(?:\\u[0-9a-fA-F]{4}){4,}")
_MAX_FRAGMENTS = 20
#: encoded-looking tokens tried per kind (tracking URLs are full of them)
_MAX_ATTEMPTS = 60
#: an ASCII letter beside a non-ASCII letter inside one word (``іgnоrе``)
_HOMOGLYPH_CLASS = "\u0370-\u03ff\u0400-\u052f\u13a0-\u13ff\u2100-\u214f\uff21-\uff5a"
#: found where ``[a-zA-Z][H]|[H][a-zA-Z]`` is (``H`` the class): an ASCII letter with a
#: look-alike after it or before it. Spelled from the ASCII letter so that the engine skips
#: to the ASCII letters (few in Cyrillic or Greek mail) instead of trying both branches at
#: every character; tests/property/test_injection_variants_fast.py compares the two
_MIXED_WORD_RE = re.compile(
    f"[a-zA-Z](?:(?=[{_HOMOGLYPH_CLASS}])|(?<=[{_HOMOGLYPH_CLASS}][a-zA-Z]))"
)
_HOMOGLYPH_RE = re.compile(f"[{_HOMOGLYPH_CLASS}]")
#: a word holding a mixed pair; tried only where a run of letters starts or at a non-letter
#: (where it costs one step): the same matches (a start inside a run fails whenever the run's
#: start failed, and no match ends inside a run), where trying every place of a long run of
#: letters without a pair read the run to its end each time (quadratic: 10,000 letters, 1.8 s
#: in the detector); tests/property/test_redos_linear.py compares the two
_MIXED_TOKEN_RE = re.compile(
    "(?:(?<![^\\W\\d_])|(?![^\\W\\d_]))"
    f"[^\\W\\d_]*(?:[a-zA-Z][{_HOMOGLYPH_CLASS}]|[{_HOMOGLYPH_CLASS}][a-zA-Z])[^\\W\\d_]*"
)
_MAX_FRAGMENT = 8_000


def _table(classes: dict[str, bytes]) -> bytes:
    """A ``bytes.translate`` table: each character of a key becomes that key's byte, every
    other byte (the bytes of non-ASCII characters among them) a space."""
    table = bytearray(b" " * 256)
    for chars, byte in classes.items():
        for ch in chars:
            table[ord(ch)] = byte[0]
    return bytes(table)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: ASCII letters ``a``, the spacing separators ``s`` (``·`` is replaced by ``.`` first), the
#: leet characters ``0``: what :data:`_SPACED_RE` and :data:`_LEET_PAIR_RE` look at
_CLASS_BYTES = _table({_LETTERS: b"a", " .-_*": b"s", "013457@$": b"0"})
#: the characters :data:`_B64_RE` runs over
_B64_BYTES = _table({_LETTERS + "0123456789+/_-": b"b"})


def _classes(text: str, table: bytes) -> bytes:
    """``text`` as bytes with every ASCII character replaced by its class in ``table``;
    a non-ASCII character becomes one to four spaces (the patterns read ASCII only), so
    two ASCII characters are adjacent here exactly when they are adjacent in ``text``."""
    return text.encode("utf-8", "surrogatepass").translate(table)


_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\n\t"
_ASCII_LETTERS = _LETTERS.encode("ascii")


def _printable(data: bytes) -> str | None:
    """``data`` as text when it reads as text (at least 85% printable ASCII or valid UTF-8)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text:
        return None
    if data.isascii():
        # the same counts in C: printable ASCII is `` `` to ``~``, ASCII letters are A-Za-z
        printable = len(data) - len(data.translate(None, _PRINTABLE_ASCII))
        letters = len(data) - len(data.translate(None, _ASCII_LETTERS))
    else:
        printable = sum(c.isprintable() or c in "\n\t" for c in text)
        letters = sum(c.isalpha() for c in text)
    if printable < 0.85 * len(text):
        return None
    return text if letters >= 0.5 * len(text.replace(" ", "")) else None


_URL_RE = re.compile(
    r"[HhFfWw](?:(?<=[Hh])[Tt][Tt][Pp][Ss]?://|(?<=[Ff])[Tt][Pp]://|(?<=[Ww])[Ww][Ww]\.)\S+"
)


_PERCENT_ESCAPE_RE = re.compile(r"%[0-9A-Fa-f]{2}")


def _percent_tokens(sample: str) -> Iterator[str]:
    r"""The matches of :data:`_PERCENT_RE` in order: it is anchored at a token start
    (``(?<!\S)``) and runs to the token's end (``\S*``), so its matches are exactly the
    whitespace-separated tokens holding a percent escape (``str.split`` and ``\s`` agree on
    what whitespace is); found without trying the regex at every position of long tokens."""
    for token in sample.split():
        if "%" in token and _PERCENT_ESCAPE_RE.search(token):
            yield token


def _b64_tokens(sample: str) -> Iterator[str]:
    """The matches of :data:`_B64_RE` in ``sample``, in order, found with ``bytes.find``.

    ``sample`` is read one byte per character (a non-ASCII character becomes ``?``) with
    every base64-alphabet character as ``b`` and everything else a space: a match of the
    regex is exactly a maximal run of 16 or more ``b`` (its lookbehind forbids starting
    inside a run, and the class repeat is greedy) plus up to two ``=`` after it. Searching
    for 16 ``b`` in C skips the text between runs instead of trying the regex at each
    position (ten times faster on long, punctuation-heavy bodies)."""
    classes = sample.encode("ascii", "replace").translate(_B64_BYTES)
    run = b"b" * 16
    pos = classes.find(run)
    while pos >= 0:
        end = classes.find(b" ", pos + 16)
        end = len(classes) if end < 0 else end
        equals = 0
        while equals < 2 and sample[end + equals : end + equals + 1] == "=":
            equals += 1
        yield sample[pos : end + equals]
        pos = classes.find(run, end)


def _decoded_fragments(sample: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """Encoded fragments that decode to text; URLs are left out (their tokens and percent
    escapes are addresses, and mail is full of them)."""
    if "://" in sample or "www." in sample:
        sample = _URL_RE.sub(" ", sample)
    b64: list[str] = []
    hexes: list[str] = []
    # one scan for both: a hex run of 24+ digits is also a base64-alphabet token
    # no run of 16 base64-alphabet characters: _B64_RE finds nothing (and no hex run)
    for _, whole in zip(range(_MAX_ATTEMPTS), _b64_tokens(sample), strict=False):
        if len(b64) + len(hexes) >= _MAX_FRAGMENTS:
            break
        token = whole[:_MAX_FRAGMENT]
        hex_run = _HEX_RE.search(token)
        if hex_run is not None:
            text = _printable(bytes.fromhex(hex_run.group(0)))
            if text:
                hexes.append(text)
                continue
        if token.islower() or token.isupper():
            continue  # a long word, a slug or a hex id: base64 of text mixes cases
        raw = token.replace("-", "+").replace("_", "/").rstrip("=")
        try:
            data = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
        except (binascii.Error, ValueError):
            continue
        text = _printable(data)
        if text:
            b64.append(text)
    percent: list[str] = []
    if sample.count("%") >= 3:  # a token is kept only with 3 escapes or more
        for _, whole in zip(range(_MAX_ATTEMPTS), _percent_tokens(sample), strict=False):
            token = whole[:_MAX_FRAGMENT]
            if token.count("%") >= 3:
                percent.append(urllib.parse.unquote(token))
    escapes = []
    matches = _UNICODE_ESCAPE_RE.finditer(sample) if "\\u" in sample else iter(())
    for _, m in zip(range(_MAX_FRAGMENTS), matches, strict=False):
        escapes.append("".join(chr(int(u, 16)) for u in re.findall(r"[0-9a-fA-F]{4}", m.group(0))))
    return b64, hexes, percent, escapes


def _unleet(match: re.Match[str]) -> str:
    return match.group(0).lower().translate(_LEET)


#: an ASCII text's characters for :func:`_leet_reading`: letters ``a``, the other characters
#: of :data:`_LEET_WORD_RE`'s words (digits, ``@``, ``$``) ``d``, everything else (``_`` too)
#: a space; and the leet digits ``013457`` alone as ``1``
_LEET_KIND_BYTES = _table({_LETTERS: b"a", "0123456789@$": b"d"})
_LEET_DIGIT_BYTES = _table({"013457": b"1"})


def _leet_reading(sample: str) -> str:
    """``_LEET_WORD_RE.sub(_unleet, sample)``, the regex run only around the words that can
    hold a match.

    A match of :data:`_LEET_WORD_RE` is a whole maximal run of ``[A-Za-z0-9@$]`` (it starts
    after a character outside ``[\\w@$]``, its class repeat is greedy and it ends before
    one) of 4 characters or more, holding two leet digits and two letters (its lookaheads),
    so a letter beside a digit, ``@`` or ``$`` somewhere; whether it matches depends on the
    run and the character on either side only. So the regex is run on each run where a
    letter and a non-letter touch (found with ``bytes.find``: plain words and plain numbers
    are skipped in C), with one character of context on either side, and the rest of the
    text, where it cannot match, is kept as is; the replacement is as long as the word
    (ASCII ``lower`` and a one-for-one ``translate``), so positions line up. Non-ASCII
    characters are never inside a word, except the four that IGNORECASE matches to ASCII
    letters (:data:`anchors.ASCII_FOLDS`; ``İ`` lowers to two characters): a text holding
    one of those, and a text with too many runs to visit, go to the regex over the whole
    text: the same answer either way. ``tests/property/test_injection_variants_fast.py``
    compares the two."""
    if holds_ascii_folds(sample):  # ı, İ, ſ, Kelvin K
        return _LEET_WORD_RE.sub(_unleet, sample)
    # one byte per character: a non-ASCII one is ``?``, outside every word (only ı, İ, ſ and
    # Kelvin K, sent to the regex above, match ``[a-z]`` under IGNORECASE)
    data = sample.encode("ascii", "replace")
    kinds = data.translate(_LEET_KIND_BYTES)
    digits = data.translate(_LEET_DIGIT_BYTES)
    budget = max(64, len(sample) // 64)
    pieces: list[str] = []
    done = 0
    letter_first = kinds.find(b"ad")
    digit_first = kinds.find(b"da")
    while letter_first >= 0 or digit_first >= 0:
        budget -= 1
        if budget < 0:
            return _LEET_WORD_RE.sub(_unleet, sample)
        # the first place left where a letter and a non-letter of a word touch
        touch = letter_first if digit_first < 0 or 0 <= letter_first < digit_first else digit_first
        start = kinds.rfind(b" ", 0, touch) + 1
        end = kinds.find(b" ", touch)
        end = len(kinds) if end < 0 else end
        if (
            end - start >= 4
            and digits.count(b"1", start, end) >= 2
            and kinds.count(b"a", start, end) >= 2
        ):
            low = max(0, start - 1)
            window = _LEET_WORD_RE.sub(_unleet, sample[low : end + 1])
            pieces.append(sample[done:start])
            pieces.append(window[start - low : end - low])
            done = end
        if 0 <= letter_first < end:
            letter_first = kinds.find(b"ad", end)
        if 0 <= digit_first < end:
            digit_first = kinds.find(b"da", end)
    if not pieces:
        return sample
    pieces.append(sample[done:])
    return "".join(pieces)


def _fold_homoglyphs(sample: str) -> str | None:
    """Words mixing ASCII letters with Greek, Cyrillic, Cherokee, letterlike or fullwidth
    look-alikes (``іgnоrе``) folded to ASCII, else None. Accented Latin is left alone."""
    changed = False

    def fold(match: re.Match[str]) -> str:
        nonlocal changed
        word = match.group(0)
        folded = _HOMOGLYPH_RE.sub(lambda c: _homoglyph(c.group(0)), word)
        changed = changed or folded != word
        return folded

    out = _MIXED_TOKEN_RE.sub(fold, sample)
    return out if changed else None


def _homoglyph(ch: str) -> str:
    from mailguard_core.sanitize.lookalike import ascii_prototype

    return ascii_prototype(ch)


def variants(sample: str) -> list[tuple[str, str]]:
    """De-obfuscated readings of ``sample``, each with the name of the trick it undoes.

    Only tricks whose trace is present are undone: invisible characters (zero-width, soft
    hyphens, Unicode tag characters, which also spell ASCII), look-alike letters inside ASCII
    words, letter spacing (``i g n o r e``), leetspeak (``1gn0r3``), and encoded fragments
    (base64, hex, percent-encoding, ``\\uXXXX`` escapes) that decode to text.
    """
    out: list[tuple[str, str]] = []
    # every invisible character is outside ASCII
    if not sample.isascii() and _INVISIBLE_RE.search(sample):
        tags = "".join(chr(ord(c) - 0xE0000) for c in _TAG_RE.findall(sample))
        cleaned = _INVISIBLE_RE.sub("", sample)
        out.append(("obfuscation_invisible_chars", cleaned + ("\n" + tags if tags else "")))
    # a mixed word holds a look-alike letter: one class scan (fast) before the pair scan
    if not sample.isascii() and _HOMOGLYPH_RE.search(sample) and _MIXED_WORD_RE.search(sample):
        folded = _fold_homoglyphs(sample)
        if folded is not None:
            out.append(("obfuscation_homoglyphs", folded))
    plain = "\u00b7" not in sample
    classes = _classes(sample if plain else sample.replace("\u00b7", "."), _CLASS_BYTES)
    # every _SPACED_RE match holds two single letters between separators (its 2nd and 3rd
    # repetitions): without ``sasas`` or ``sassas`` here, the regex cannot match
    if _SPACED_HINT_RE.search(classes) and (
        _SPACED_CLASS_RE.search(classes) if sample.isascii() else _SPACED_RE.search(sample)
    ):
        out.append(
            ("obfuscation_letter_spacing",
             _SPACED_RE.sub(lambda m: _unspace(m.group(0)), sample))
        )  # fmt: skip
    # ``len(_LEET_PAIR_RE.findall(sample[:20_000]))``: both count non-overlapping matches
    # from the left, and a non-ASCII character separates here as it does in the text
    # (the classes above when they are of the same text: no ``·`` and at most 20,000 chars)
    head = classes if plain and len(sample) <= 20_000 else _classes(sample[:20_000], _CLASS_BYTES)
    if head.count(b"a0a") >= 3:
        leet = _leet_reading(sample)
        out.append(("obfuscation_leetspeak", leet))
    b64, hexes, percent, escapes = _decoded_fragments(sample)
    for name, texts in (
        ("obfuscation_base64", b64), ("obfuscation_hex", hexes),
        ("obfuscation_percent_encoding", percent), ("obfuscation_unicode_escapes", escapes),
    ):  # fmt: skip
        if texts:
            out.append((name, "\n".join(texts)))
    return out
