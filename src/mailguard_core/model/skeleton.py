"""Confusable skeletons of names (UTS #39, section 4), from maintained Unicode data.

Two names that *look* the same get the same skeleton. The steps, for :func:`skeleton`:

1. NFD, then every default-ignorable code point (``Default_Ignorable_Code_Point``, from the
   ``regex`` package's Unicode tables: U+200B, U+034F, U+FE0F, U+3164, U+115F, tags ...),
   every format or control character that is not a space (Cf, which the DI property
   leaves out in part: U+FFF9; Cc: U+001C) and
   every non-spacing or enclosing combining mark (general category Mn, Me: U+0336
   strike-through, accents, the dot of ``İ`` ...) removed unless ``marks``; spacing marks (Mc)
   are visible and stay;
2. when ``fold``, case folding;
3. each character replaced by its prototype from Unicode's ``confusables.txt`` (the
   ``confusable-homoglyphs`` package's copy, see :func:`prototype_table`): Cyrillic ``а``
   and Latin ``a``, Cyrillic ``І`` and Latin ``I`` and ``l``, ``m`` and ``rn``; then NFKC
   (``unicodedata2``'s current Unicode: fullwidth and mathematical letters), and when
   ``fold`` case folding and NFKC again;
4. steps 1-3 again until nothing changes (a prototype can be upper case or carry a mark), at
   most :data:`MAX_ROUNDS` times;
5. every blank (``White_Space``, and U+2800 BRAILLE PATTERN BLANK, which Unicode classes as a
   symbol but which renders as nothing) becomes one space; runs of them collapse and the ends
   are trimmed.

Without ``fold`` and without marks this is the UTS #39 skeleton: every ``source -> target``
line of the data gets equal skeletons on both sides (``tests/hostile`` checks all of them).
It is deliberately wider than UTS #39, which keeps marks and ignorables: a security check
comparing names wants ``D̶rafts`` and ``Sent`` + U+FE0F to meet ``Drafts`` and ``Sent``.
Folding case *before* the mapping keeps it case-insensitive (``INBOX`` and ``inbox`` meet)
but loses the few look-alikes of capital letters (capital ``I`` and ``l``): callers that need
both compare the unfolded skeletons of the case variants too
(:func:`~mailguard_core.model.folder_names.folder_keys`). A name of a script without look-alikes
(CJK, most Cyrillic words) keeps its own letters, minus their non-spacing marks.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping

import regex
import unicodedata2
from confusable_homoglyphs import utils as confusable_data

__all__ = ["MAX_ROUNDS", "confusable_pairs", "prototype_table", "skeleton"]

#: how often steps 1-3 are repeated at most (the table is nearly idempotent: 2 suffice)
MAX_ROUNDS = 4
_DROP = regex.compile(
    r"[[\p{Default_Ignorable_Code_Point}\p{Cf}\p{Cc}\p{Mn}\p{Me}]--\p{White_Space}]+",
    regex.VERSION1,
)
#: the same without the combining marks (``marks=True``)
_DROP_KEEPING_MARKS = regex.compile(
    r"[[\p{Default_Ignorable_Code_Point}\p{Cf}\p{Cc}]--[\p{White_Space}\p{Mn}\p{Me}]]+",
    regex.VERSION1,
)
_BLANKS = regex.compile(r"[\p{White_Space}\u2800]+")
#: direction marks the package keeps around right-to-left glyphs in its data
_DIRECTION_MARKS = str.maketrans("", "", "\u200e\u200f")


def confusable_pairs() -> Iterator[tuple[str, str]]:
    """Every ``(key, target)`` of the ``confusable-homoglyphs`` data, in the package's order.

    Read from the package's data file each time (``utils.load``, which honours its
    ``CONFUSABLE_DATA`` variable) rather than through ``confusable_homoglyphs.confusables``,
    whose import keeps the whole parsed file alive for the life of the process: about 6 MB of
    dicts, mostly the characters' names, where the tables built from it need about 1 MB.
    """
    data = confusable_data.load("confusables.json")
    for key, found in data.items():
        for item in found:
            yield str(key), str(item["c"])


@functools.cache
def prototype_table() -> Mapping[str, str]:
    """Character -> prototype, recovered from the ``confusable-homoglyphs`` data.

    The package stores each ``confusables.txt`` line ``source -> target`` in both directions:
    ``data[source]`` gets the target and ``data[target]`` the source. Sources are single code
    points and never targets (the table is idempotent), so a single character with exactly
    one entry is a source, unless that entry is a single character with exactly one entry
    itself: then the two form a pair whose direction the data does not keep, and both map to
    the same member (an ASCII one if there is one, else the lower code point). Skeleton
    *equality* is what matters, and it is the same either way. Characters mapping to
    themselves are left out.
    """
    entries: dict[str, list[str]] = {}
    for key, target in confusable_pairs():
        char = key.translate(_DIRECTION_MARKS)
        if len(char) == 1:
            entries.setdefault(char, []).append(target.translate(_DIRECTION_MARKS))
    table: dict[str, str] = {}
    for char, targets in entries.items():
        if len(targets) != 1:
            continue  # a prototype of several sources
        target = targets[0]
        if len(target) == 1 and len(entries.get(target, ())) == 1:
            chosen = min(char, target, key=lambda c: (not c.isascii(), ord(c)))
            if chosen != char:
                table[char] = chosen
        elif target != char:
            table[char] = target
    return table


def _round(text: str, fold: bool, marks: bool, table: Mapping[str, str]) -> str:
    text = (_DROP_KEEPING_MARKS if marks else _DROP).sub("", unicodedata2.normalize("NFD", text))
    if fold:
        text = text.casefold()
    text = unicodedata2.normalize("NFKC", "".join(table.get(ch, ch) for ch in text))
    if fold:
        text = unicodedata2.normalize("NFKC", text.casefold())
    return text


@functools.lru_cache(maxsize=4096)
def skeleton(text: str, *, fold: bool = True, marks: bool = False) -> str:
    """The confusable skeleton of ``text`` (see the module docstring); ``fold`` also folds
    case, so ``INBOX``, ``Іnbox`` (Cyrillic І) and ``İnbox`` meet. ``marks`` keeps the
    combining marks (as UTS #39 does), so ``bücher`` and ``bucher`` stay apart: for domains,
    where an accented letter is a different, legitimate name."""
    table = prototype_table()
    for _ in range(MAX_ROUNDS):
        done = _round(text, fold, marks, table)
        if done == text:
            break
        text = done
    return _BLANKS.sub(" ", text).strip(" ")
