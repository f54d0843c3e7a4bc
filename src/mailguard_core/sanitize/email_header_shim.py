"""Shim for ``email.header.decode_header``: the one entry to RFC 2047 encoded words.

Every reader of encoded words in header values (the sanitizer's header decoding, IMAP
attachment names, search matching in the local stores) calls :func:`decode_header` here, never
``email.header`` and never the hand-written decoder (``encoded_words``) directly
(``tests/unit/test_parser_shims.py`` checks the imports).

Why not the stdlib's: ``decode_header`` raises ``HeaderParseError`` on a malformed base64 word
(one crafted Subject made a whole message unreadable), turns the text around encoded words
into bytes with ``raw-unicode-escape`` (raw UTF-8 beside an encoded word came out as escapes)
and decodes quoted-printable slowly. ``encoded_words.split_words`` keeps the stdlib's reading
wherever the stdlib succeeds, and is total; the differential test against
``email.header.decode_header`` runs on every CI run
(``tests/property/test_sanitize_fast_paths.py::test_encoded_words_decode_as_the_stdlib_decodes_them``,
plus the cases of ``tests/unit/test_encoded_words.py``).
"""

from __future__ import annotations

from mailguard_core.sanitize.encoded_words import Chunk, chunk_text, split_words

__all__ = ["Chunk", "chunk_text", "decode_header"]


def decode_header(value: str) -> list[Chunk]:
    """``value`` as literal text and encoded words: ``(text, None)`` or ``(bytes, charset)``
    (see ``encoded_words.split_words``); never raises."""
    return split_words(value)
