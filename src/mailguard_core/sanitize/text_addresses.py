"""Mail addresses in free text (a link's text, a display name, a hidden plain alternative),
found in time linear in the text.

The pattern is ``[\\w.+-]+@[\\w-]+(?:\\.[\\w-]+)+``. Searched with ``re.finditer``, every
position inside a long run of ``[\\w.+-]`` characters that no ``@`` ends is tried, and each try
runs to the end of the run: quadratic in the run's length (a 40,000-letter run beside one
address cost 4 s, a few hundred kilobytes would cost hours). :func:`address_spans` gives the
very same matches by walking the ``@`` characters instead: ``@`` is not in the local part's
class, so a match's local part is the run of class characters just before an ``@`` (cut at
the end of the previous match), and its domain is what the domain pattern matches right
after that ``@``; each stretch of text between two ``@`` is read once.
``tests/property/test_sanitize_fast_paths.py`` compares the two on generated text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

#: the pattern :func:`address_spans` finds (``ADDRESS_RE.finditer`` answers the same)
ADDRESS_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: the local part's class, matched on the reversed text before an ``@``
_LOCAL_RUN_RE = re.compile(r"[\w.+-]*")
#: ``@`` and the domain (its ``[\w-]`` runs are split by dots: no backtracking across them)
_AT_DOMAIN_RE = re.compile(r"@[\w-]+(?:\.[\w-]+)+")


def address_spans(text: str) -> Iterator[tuple[int, int]]:
    """``(m.start(), m.end())`` of every ``m`` in ``ADDRESS_RE.finditer(text)``, in order."""
    last_end = 0
    after_at = 0  # the local part cannot reach back over an earlier "@"
    at = text.find("@")
    while at >= 0:
        low = max(last_end, after_at)
        run = _LOCAL_RUN_RE.match(text[low:at][::-1])
        local = run.end() if run is not None else 0
        if local:
            domain = _AT_DOMAIN_RE.match(text, at)
            if domain is not None:
                yield at - local, domain.end()
                last_end = domain.end()
        after_at = at + 1
        at = text.find("@", max(at + 1, last_end))
    return


def find_addresses(text: str) -> list[str]:
    """``ADDRESS_RE.findall(text)``."""
    return [text[start:end] for start, end in address_spans(text)]


def blank_addresses(text: str) -> str:
    """``ADDRESS_RE.sub(" ", text)``."""
    pieces: list[str] = []
    pos = 0
    for start, end in address_spans(text):
        pieces.append(text[pos:start])
        pieces.append(" ")
        pos = end
    if not pieces:
        return text
    pieces.append(text[pos:])
    return "".join(pieces)
