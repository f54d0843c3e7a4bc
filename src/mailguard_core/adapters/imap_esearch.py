"""A strict parser of the ``ESEARCH`` answer to ``UID SEARCH RETURN (ALL) ...`` (RFC 4731).

The answer is server input, so it is read as untrusted: exactly what the command can get back
is accepted and everything else raises :class:`~mailguard_core.adapters.imap_errors.MalformedAnswer`
(``imap_errors.answer_errors`` maps it to ``OutOfStep``: a typed error, the connection dropped),
never a crash and never a silently empty page. Accepted, after ``* ESEARCH ``:

- an optional correlator ``(TAG "<tag>")``; when present it must name this command's tag;
- ``UID`` (the numbers are UIDs, not message sequence numbers): required;
- ``ALL <sequence-set>`` once, or nothing at all (no message matched: RFC 4731 omits ``ALL``).

Keywords are case-insensitive, as every IMAP atom. A sequence set is ``n`` or ``a:b`` items
joined by commas; each number is an ``nz-number`` (1..4294967295, no leading zero, at most 10
digits: never a huge ``int()``); ``a:b`` with ``b < a`` is the same range as ``b:a`` (RFC 3501
sequence-set semantics); overlapping items merge. ``*`` (the highest UID in the mailbox) is
refused: a search answer names UIDs, and a server that sends ``*`` there is not trusted to
mean one. Exactly one ESEARCH response must have come. The line's size is bounded by imaplib
(``_MAXLINE``, 1,000,000 bytes: longer is ``OutOfStep`` before this parser runs) and again
here (:data:`MAX_ANSWER_BYTES`); ranges are never expanded: ``1:4294967295`` is two numbers.

Cross-checked against the plain ``UID SEARCH`` path on a real Dovecot by
``tests/unit/test_imap_esearch.py`` (the same pages and cursors for random criteria and folders).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mailguard_core.adapters.imap_errors import MalformedAnswer
from mailguard_core.search.uidset import MAX_UID, UidSet

__all__ = ["MAX_ANSWER_BYTES", "parse_esearch", "parse_sequence_set"]

#: the longest ESEARCH answer read (imaplib stops at 1,000,000 bytes a line before this)
MAX_ANSWER_BYTES = 1 << 20

#: ``nz-number`` (at most 10 digits: a UID is 32 bits) and ``sequence-set`` without ``*``
_NZ = rb"[1-9][0-9]{0,9}"
_SEQUENCE_SET = re.compile(rb"%s(?::%s)?(?:,%s(?::%s)?)*" % (_NZ, _NZ, _NZ, _NZ))
_CORRELATOR = re.compile(rb'\(TAG "([^"\\\x00-\x1f\x7f]{1,64})"\)', re.IGNORECASE)


def parse_sequence_set(text: bytes) -> UidSet:
    """``1:3,7,10:8`` -> a :class:`UidSet`; ``MalformedAnswer`` unless it is a well-formed
    sequence set of UIDs (no ``*``, nothing empty, nothing else)."""
    if not isinstance(text, bytes) or not text:
        raise MalformedAnswer("empty sequence set")
    if len(text) > MAX_ANSWER_BYTES:
        raise MalformedAnswer(f"sequence set of {len(text)} bytes")
    if not _SEQUENCE_SET.fullmatch(text):  # in C; unambiguous, so no backtracking blow-up
        raise MalformedAnswer(f"not a sequence set of UIDs: {text[:40]!r}")
    items = text.split(b",")
    if b":" not in text:  # single UIDs (a sparse answer)
        firsts = lasts = list(map(int, items))
    else:
        pairs = [item.partition(b":") for item in items]
        firsts = [int(first) for first, _c, _l in pairs]
        lasts = [
            int(last) if last else lo for (_f, _c, last), lo in zip(pairs, firsts, strict=True)
        ]
    if max(max(firsts), max(lasts)) > MAX_UID:
        raise MalformedAnswer(f"a UID over {MAX_UID}")
    return UidSet.from_bounds(firsts, lasts)


def parse_esearch(responses: Sequence[object], *, tag: bytes) -> UidSet:
    """The UIDs of the untagged ESEARCH responses one ``UID SEARCH RETURN (ALL)`` got.

    Args:
        responses: imaplib's collected ESEARCH data for the command (the text after
            ``* ESEARCH``; ``[None]`` when none came; a tuple where the server sent a literal).
        tag: the command's tag, which a correlator must name.

    Raises:
        MalformedAnswer: see the module docstring.
    """
    if len(responses) != 1 or not isinstance(responses[0], bytes):
        kinds = sorted({type(r).__name__ for r in responses})
        raise MalformedAnswer(f"{len(responses)} ESEARCH responses ({', '.join(kinds)})")
    line = responses[0]
    if len(line) > MAX_ANSWER_BYTES:
        raise MalformedAnswer(f"ESEARCH answer of {len(line)} bytes")
    rest = line
    if rest.startswith(b"("):
        correlator = _CORRELATOR.match(rest)
        if correlator is None or rest[correlator.end() : correlator.end() + 1] != b" ":
            raise MalformedAnswer(f"malformed ESEARCH correlator: {rest[:40]!r}")
        if correlator.group(1) != tag:
            got = correlator.group(1)
            raise MalformedAnswer(
                f"ESEARCH correlator names another command ({got!r}, not {tag!r})"
            )
        rest = rest[correlator.end() + 1 :]
    words = rest.split(b" ")
    if words[0].upper() != b"UID":
        raise MalformedAnswer("ESEARCH answer without UID (sequence numbers)")
    if len(words) == 1:
        return UidSet()  # nothing matched
    if len(words) != 3 or words[1].upper() != b"ALL":
        raise MalformedAnswer(f"unexpected ESEARCH data: {rest[:60]!r}")
    return parse_sequence_set(words[2])
