"""RFC 2047 encoded words (``=?charset?Q|B?text?=``) in header values, total and fast.

Why not ``email.header.decode_header``: it raises ``HeaderParseError`` (not a ``ValueError``)
on a malformed base64 word, so one crafted Subject made a whole message unreadable; it turns
the text around encoded words into bytes with ``raw-unicode-escape``, so raw UTF-8 beside an
encoded word came out as ``\\u4e2d`` escapes and Latin-1 letters as a charset fallback; and
its quoted-printable step calls back into Python for every ``=XX``, which made long encoded
subjects the slowest header to read.

:func:`split_words` keeps the stdlib's reading everywhere else, so well-formed headers decode
exactly as before (a property test compares the two on generated headers):

- an encoded word is what the stdlib's pattern finds (``=?``, a charset without ``?``, ``q`` or
  ``b`` in either case, the shortest text up to ``?=``);
- whitespace between two encoded words is dropped (RFC 2047 section 6.2), other text is kept;
  leading whitespace of the value is dropped;
- adjacent encoded words in the same charset (case-insensitive) are joined as bytes before
  decoding, so a character split across two words decodes whole;
- ``Q``: ``_`` is a space and ``=`` with two hex digits a byte; ``B``: base64, padded to a
  multiple of four like the stdlib does.

Raw 8-bit characters inside an encoded word (RFC 2047 allows only ASCII there, but real mail
has them) count as their Latin-1 bytes, as in the stdlib. Where the stdlib failed or garbled,
the encoded word is kept as the literal text it was: a base64 word that does not decode, and a
word with a character past U+00FF in it. A ``*language`` suffix on the charset (RFC 2231) is
dropped.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator

__all__ = ["Chunk", "chunk_text", "split_words"]

#: the stdlib's ``email.header.ecre`` (its MULTILINE flag has no effect without anchors);
#: :func:`encoded_words` finds its matches without it (this is the reference its test reads)
_ENCODED_WORD = re.compile(r"=\?([^?]*?)\?([qQbB])\?(.*?)\?=")
#: the encodings :data:`_ENCODED_WORD` accepts (``""`` is not one: ``in`` on a slice past the end)
_Q_OR_B = ("q", "Q", "b", "B")
#: every ``=XX`` escape (either case) and the character it stands for
_HEX_ESCAPES = {
    f"{a}{b}": chr(int(a + b, 16))
    for a in "0123456789abcdefABCDEF"
    for b in "0123456789abcdefABCDEF"
}

#: a piece of a header value: (text, None) as it was, or (bytes, charset) to decode
Chunk = tuple[str, None] | tuple[bytes, str]


def _q_bytes(text: str) -> bytes:
    """Decode the text of a ``Q`` word: ``_`` is a space, ``=XX`` a byte, any other character
    its Latin-1 byte (raises ``UnicodeEncodeError`` past U+00FF)."""
    text = text.replace("_", " ")
    if "=" in text:
        first, *rest = text.split("=")
        out = [first]
        for piece in rest:
            char = _HEX_ESCAPES.get(piece[:2])
            out.append("=" + piece if char is None else char + piece[2:])
        text = "".join(out)
    return text.encode("latin-1")


def _b_bytes(text: str) -> bytes | None:
    """Decode the text of a ``B`` word, or None when it is not base64 (characters outside the
    alphabet are skipped, as ``binascii`` does; past U+00FF raises ``UnicodeEncodeError``)."""
    missing = len(text) % 4
    if missing:
        text += "==="[: 4 - missing]
    try:
        return binascii.a2b_base64(text.encode("latin-1"))
    except binascii.Error:
        return None


def encoded_words(value: str) -> Iterator[tuple[int, int, str, str, str]]:
    """``_ENCODED_WORD.finditer(value)`` as (start, end, charset, encoding, text), in linear
    time.

    The regex retries every ``=?`` that no ``?=`` closes on its line, each try reading to the
    end of the line (``=?a?q?a`` repeated over 40,000 characters: 1.2 s, quadratic). A try at
    ``i`` is: the charset runs to the first ``?`` after ``i + 2`` (``[^?]`` cannot pass one,
    lazy or not), then ``q``/``b`` and ``?``, then the text runs to the first ``?=`` after that,
    with no line break before it (``.``). The places the tries ask about only move forward (a
    later ``=?`` has its first ``?`` no earlier), so the first ``?=`` and the first line break
    at or after a place are looked up once and kept while they are still ahead.
    """
    size = len(value)
    close = close_from = newline = newline_from = -1
    i = value.find("=?")
    while i >= 0:
        mark = value.find("?", i + 2)
        if mark < 0:
            return  # no later "=?" has a "?" after it either
        start = mark + 3
        if start <= size and value[mark + 1 : mark + 2] in _Q_OR_B and value[mark + 2] == "?":
            if close_from < 0 or (close >= 0 and close < start):
                close, close_from = value.find("?=", start), start
            if newline_from < 0 or (newline >= 0 and newline < start):
                newline, newline_from = value.find("\n", start), start
            if close >= 0 and (newline < 0 or newline > close):
                yield i, close + 2, value[i + 2 : mark], value[mark + 1], value[start:close]
                i = value.find("=?", close + 2)
                continue
        i = value.find("=?", i + 1)


def split_words(value: str) -> list[Chunk]:
    """``value`` as literal text and encoded words (decoded to bytes, charset not yet applied).

    Total: never raises. Adjacent words in one charset come as one chunk; the charset is
    lower-cased, without a ``*language`` suffix. A value without a decodable word comes back
    whole, as one text chunk.
    """
    # tokens: str for text, (charset, bytes) for a decoded word; adjacent texts merged
    tokens: list[str | tuple[str, bytes]] = []
    pos = 0
    for begin, end, charset, encoding, text in encoded_words(value):
        try:
            data = _q_bytes(text) if encoding in "qQ" else _b_bytes(text)
        except UnicodeEncodeError:
            data = None
        if data is None:
            continue  # not a decodable word: it stays in the text around it
        if begin > pos:
            tokens.append(value[pos:begin])
        tokens.append((charset.lower().split("*", 1)[0], data))
        pos = end
    if not tokens:
        return [(value, None)] if value else []
    if pos < len(value):
        tokens.append(value[pos:])
    chunks: list[Chunk] = []
    for i, token in enumerate(tokens):
        if isinstance(token, str):
            if i == 0:
                token = token.lstrip()
            elif token.isspace() and i + 1 < len(tokens) and not isinstance(tokens[i + 1], str):
                continue  # whitespace between two encoded words is not text (RFC 2047 6.2)
            if token:
                chunks.append((token, None))
            continue
        charset, data = token
        last = chunks[-1] if chunks else None
        if last is not None and last[1] == charset and isinstance(last[0], bytes):
            chunks[-1] = (last[0] + data, charset)
        else:
            chunks.append((data, charset))
    return chunks


def chunk_text(data: bytes | str, charset: str | None) -> str:
    """A chunk as text, leniently: bytes in their charset, else UTF-8, errors replaced.

    For callers that only need readable text (search matching, attachment names); the
    sanitizer decodes with ``headers.decode_bytes``, which also reports a charset fallback.
    """
    if isinstance(data, str):
        return data
    if charset and charset.lower() not in ("unknown-8bit", "us-ascii"):
        try:
            return data.decode(charset, "replace")
        except LookupError:
            pass
    return data.decode("utf-8", "replace")  # raw 8-bit headers are UTF-8 in practice
