"""Outlook conditional-comment markers removed from a comment's text in linear time."""

from __future__ import annotations

import re

#: the markers: ``[if ...]>``, ``<![endif]``, ``[endif]`` (what ``html._remove`` replaced by a
#: space with ``sub``); :func:`strip_conditionals` gives the same answer without it
CONDITIONAL_RE = re.compile(r"\[if [^\]]*\]>|<!\[endif\]|\[endif\]", re.I)
#: the letters of the markers as IGNORECASE matches them: ASCII capitals, and ``İ``, ``ı``
#: for ``i`` (one character each, so offsets are kept; tests ask re about every code point)
_FOLD = str.maketrans({"I": "i", "F": "f", "E": "e", "N": "n", "D": "d", "İ": "i", "ı": "i"})


def strip_conditionals(text: str) -> str:
    """``CONDITIONAL_RE.sub(" ", text)``, in linear time.

    The regex retries every ``[if `` that no ``]>`` closes, each try reading to the next
    ``]``: a comment of ``[if `` repeated (2 MB of HTML holds 500,000) costs quadratic time.
    Every ``[if `` before the same ``]`` reads to that ``]`` (``[if `` holds none), so when
    the first fails (no ``>`` after the ``]``) they all do, and the next try is after the
    ``]``. The three alternatives cannot start at one place (``[i``, ``[e``, ``<``), so the
    leftmost candidate that matches is the regex's next match; the next place of each
    marker is looked up again only once it falls behind.
    """
    folded = text.translate(_FOLD)
    size = len(text)
    next_if = folded.find("[if ")
    if next_if < 0:
        return CONDITIONAL_RE.sub(" ", text)  # literal markers only: linear
    out: list[str] = []
    pos = 0
    long_end = folded.find("<![endif]")
    short_end = folded.find("[endif]")
    while True:
        if 0 <= long_end < pos:
            long_end = folded.find("<![endif]", pos)
        if 0 <= short_end < pos:
            short_end = folded.find("[endif]", pos)
        if 0 <= next_if < pos:
            next_if = folded.find("[if ", pos)
        literal = min(i for i in (long_end, short_end, size) if i >= 0)
        if 0 <= next_if < literal:
            close = folded.find("]", next_if + 4)
            if close >= 0 and folded[close + 1 : close + 2] == ">":
                out.append(text[pos:next_if])
                out.append(" ")
                pos = close + 2
                continue
            # every "[if " up to this "]" fails too (no "]" at all: every later one fails)
            next_if = folded.find("[if ", close + 1) if close >= 0 else -1
            continue
        if literal == size:
            break
        out.append(text[pos:literal])
        out.append(" ")
        pos = literal + (9 if literal == long_end else 7)
    out.append(text[pos:])
    return "".join(out)
