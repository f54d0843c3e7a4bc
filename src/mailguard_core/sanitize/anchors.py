"""Where a rule's match can start: its *anchors*, the literal strings every match begins
with, read off the parsed regex, so that the detector tries the regex only where an anchor
occurs instead of at every position of a long text.

``rx.search(text)`` finds a match exactly when ``rx.match(text, p)`` does for some ``p``
(``match`` at ``p`` sees the characters before ``p`` for ``\\b`` and look-behinds, as
``search`` does). Every match starting at ``p`` begins with one of the anchors, compared
case-insensitively the way the regex compares: so :func:`find_anchored` tries ``match`` at the
places where an anchor occurs in :func:`fold` of the text and nowhere else, and answers
what ``search`` answers. An anchor holds only characters whose case-insensitive matches
:func:`fold` maps onto the anchor's own character (ASCII, uncased characters, accented
Latin-1 letters); a rule whose matches can start otherwise has no anchors (``None``) and is
searched as before. Anchors that begin alike are looked for as their common beginning
(:func:`_merged`): a prefix of an anchor is an anchor too, and one ``str.find`` of it costs
less than one of each. ``tests/property/test_injection_anchors.py`` checks both halves.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from typing import Any

#: the stdlib's regex parser (3.11-3.13; typeshed has no stubs for it)
_sre: Any = importlib.import_module("re._constants")
_sre_parse: Any = importlib.import_module("re._parser")

#: at most this many anchors per rule (each costs one ``str.find`` over the text)
MAX_ANCHORS = 40
#: an anchor this short or starting with white space is too common to help
_MIN_LENGTH = 2
#: zero-width items: they do not consume, so the anchor is read past them
_ZERO_WIDTH = frozenset({_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT})
#: Latin-1 letters whose case-insensitive matches are their other case only (not ß, ÿ, µ)
_LATIN1_LETTERS = frozenset(
    chr(c) for c in range(0xC0, 0x100) if chr(c) not in "\u00d7\u00f7\u00df\u00ff"
)


#: ``str.translate`` table of every non-ASCII code point that ``re.IGNORECASE`` matches to an
#: ASCII letter, mapped to that letter in lower case (Python 3.11-3.13: ``İ`` and ``ı`` to
#: ``i``, ``ſ`` to ``s``, Kelvin ``K`` to ``k``). Written out rather than asked of the regex
#: engine over all 1.1 million code points at every import (~13-25 ms);
#: tests/property/test_injection_fold.py asks the engine and must find exactly this table.
ASCII_FOLDS: dict[int, str] = {0x130: "i", 0x131: "i", 0x17F: "s", 0x212A: "k"}
_FOLD_RX = re.compile("[" + "".join(chr(c) for c in sorted(ASCII_FOLDS)) + "]")


def holds_ascii_folds(text: str) -> bool:
    """Whether ``text`` holds a character of :data:`ASCII_FOLDS`."""
    return not text.isascii() and _FOLD_RX.search(text) is not None


def ascii_fold(text: str) -> str:
    """``text`` with every character of :data:`ASCII_FOLDS` spelled as its ASCII letter:
    the same length, and wherever a case-insensitive regex matches a literal ASCII letter of
    its pattern, the result holds that letter in one case or the other (what the word
    triggers and anchors look for after ``lower()``)."""
    return text.translate(ASCII_FOLDS) if holds_ascii_folds(text) else text


def _char(code: int) -> str | None:
    """The anchor character for a literal of the pattern, or None when :func:`fold` cannot
    stand for the characters it matches."""
    ch = chr(code)
    if ch.isascii() or ch in _LATIN1_LETTERS:
        return ch.lower()
    if ch.lower() == ch == ch.upper() and not ch.isspace():
        return ch  # uncased (CJK, full-width punctuation): it matches itself only
    return None


def _item(op: Any, av: Any, limit: int) -> tuple[set[str], bool] | None:
    """(starts, whole) of one parsed item; None when nothing is known of how it starts."""
    if op is _sre.LITERAL:
        ch = _char(av)
        return None if ch is None else ({ch}, True)
    if op is _sre.IN:
        chars: set[str] = set()
        for in_op, in_av in av:
            ch = _char(in_av) if in_op is _sre.LITERAL else None
            if ch is None:
                return None
            chars.add(ch)
        return chars, True
    if op is _sre.SUBPATTERN:
        return _starts(list(av[-1]), limit)
    if op is _sre.BRANCH:
        out: set[str] = set()
        whole = True
        for branch in av[1]:
            starts, branch_whole = _starts(list(branch), limit)
            out |= starts
            whole = whole and branch_whole
        return out, whole
    return None


def _starts(items: list[Any], limit: int) -> tuple[set[str], bool]:
    """(starts, whole) of a sequence: every match begins with a string of ``starts``; when
    ``whole``, ``starts`` is exactly the set of strings the sequence matches. Shortening
    every string of ``starts`` keeps the first claim true, so a set grown past ``limit``
    stops where it is."""
    if not items:
        return {""}, True
    (op, av), rest = items[0], items[1:]
    if op in _ZERO_WIDTH:
        return _starts(rest, limit)
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
        low, high, sub = av
        inner = _starts(list(sub), limit)
        if low == 0:
            if high == 1 and inner[1]:
                head: tuple[set[str], bool] | None = (inner[0] | {""}, True)
            else:  # skipped, or entered and then unknown: either way of starting
                return inner[0] | _starts(rest, limit)[0], False
        else:
            head = (inner[0], low == high == 1 and inner[1])
    else:
        head = _item(op, av, limit)
    if head is None:
        return {""}, False
    starts, whole = head
    if not whole:
        return starts, False
    tail, tail_whole = _starts(rest, limit)
    joined = {a + b for a in starts for b in tail}
    if len(joined) > limit:
        return starts, False
    return joined, tail_whole


#: an anchor and its lead: when the lead is "", a match starts at the anchor; else the match
#: starts at a line start, then runs over lead characters (``^[ \t>]*``) to the anchor
Anchors = tuple[tuple[str, str], ...]
_LINE_STARTS = (_sre.AT_BEGINNING, _sre.AT_BEGINNING_LINE)


def _lead(items: list[Any]) -> tuple[str, list[Any]]:
    """``items`` of the form ``^[chars]*rest`` as (chars, rest), else ("", items); the
    chars are ASCII punctuation and blanks (they fold to themselves), never a newline."""
    if len(items) > 1 and items[0][0] is _sre.AT and items[0][1] in _LINE_STARTS:
        op, av = items[1]
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and av[0] == 0 and len(av[2]) == 1:
            in_op, in_av = next(iter(av[2]))
            if in_op is _sre.IN and all(o is _sre.LITERAL for o, _ in in_av):
                chars = "".join(sorted({chr(c) for _, c in in_av}))
                if all(c.isascii() and not c.isalnum() and c not in "\r\n" for c in chars):
                    return chars, items[2:]
    return "", items


def anchors(rx: re.Pattern[str]) -> Anchors | None:
    """The anchors of ``rx`` with their leads (no anchor a prefix of another of the same
    lead), or None when its matches can start with something :func:`find_anchored` cannot
    look for cheaply."""
    tree = list(_sre_parse.parse(rx.pattern, rx.flags))
    branches = list(tree[0][1][1]) if len(tree) == 1 and tree[0][0] is _sre.BRANCH else [tree]
    found: set[tuple[str, str]] = set()
    for branch in branches:
        lead, items = _lead(list(branch))
        starts, _ = _starts(items, MAX_ANCHORS)
        if not starts or any(len(s) < _MIN_LENGTH or s[0].isspace() for s in starts):
            return None
        found |= {(start, lead) for start in starts}
    found = _merged(found)
    # too many: every anchor cut to the longest length that leaves few enough (a prefix of
    # an anchor is an anchor too)
    for length in range(max(len(a) for a, _ in found), _MIN_LENGTH - 1, -1):
        minimal = _minimal({(a[:length], lead) for a, lead in found})
        if len(minimal) <= MAX_ANCHORS:
            return minimal
    return None


#: anchors of one lead that begin with the same this many characters are looked for as
#: their common beginning: one ``str.find`` instead of several (``your new role is``,
#: ``your new task are``, ... as ``your new ``), and the places found are the same or few more
_MERGE_LENGTH = 5


def _merged(found: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """``found`` with each group of anchors of one lead sharing their first
    :data:`_MERGE_LENGTH` characters replaced by the longest beginning they all share (a
    prefix of an anchor is an anchor too)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for anchor, lead in found:
        groups.setdefault((anchor[:_MERGE_LENGTH], lead), []).append(anchor)
    out: set[tuple[str, str]] = set()
    for (_, lead), members in groups.items():
        common = min(members)
        for member in members:
            while not member.startswith(common):
                common = common[:-1]
        out.add((common, lead))
    return out


def _minimal(found: set[tuple[str, str]]) -> Anchors:
    """``found`` without the anchors another one of the same lead begins."""
    out: list[tuple[str, str]] = []
    for anchor, lead in sorted(found, key=lambda f: (len(f[0]), f)):
        if not any(lead == other_lead and anchor.startswith(o) for o, other_lead in out):
            out.append((anchor, lead))
    return tuple(out)


def fold(sample: str, lower: str) -> str | None:
    """``sample`` (and its ``lower()``) as one string of the same length in which every
    character the regex engine matches case-insensitively to an anchor character is that
    anchor character (:func:`ascii_fold`, then ``lower()``); None if positions could not
    line up (never with the Unicode of 3.11-3.13: ``İ``, whose ``lower()`` is two
    characters, is folded to ``i`` first)."""
    if len(lower) != len(sample):
        lower = ascii_fold(sample).lower()
        if len(lower) != len(sample):
            return None
    if lower.isascii():
        return lower
    return ascii_fold(lower)


def candidates(starts: Anchors, sample: str, folded: str) -> Iterator[int]:
    """The places where a match of a regex with these anchors can start: each occurrence of
    an anchor in ``folded`` (:func:`fold` of ``sample``), or for a lead, the line start the
    lead characters before that occurrence run back to."""
    find = folded.find
    for anchor, lead in starts:
        pos = find(anchor)
        while pos >= 0:
            if not lead:
                yield pos
            else:
                at = pos
                while at and folded[at - 1] in lead:
                    at -= 1
                if not at or sample[at - 1] == "\n":
                    yield at
            pos = find(anchor, pos + 1)


def find_anchored(rx: re.Pattern[str], starts: Anchors, sample: str, folded: str) -> bool:
    """``rx.search(sample) is not None``, trying ``rx.match`` only at the
    :func:`candidates` (the one walk over the anchors: the property tests check it finds
    every place a match starts, and that this answers what ``search`` answers)."""
    match = rx.match
    return any(match(sample, at) is not None for at in candidates(starts, sample, folded))
