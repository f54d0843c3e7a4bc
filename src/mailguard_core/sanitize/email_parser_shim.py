"""Shim for ``email.message_from_bytes(raw, policy=compat32)``: the one entry to MIME parsing.

Every part of mailguard that parses a message (the sanitizer, attachment text extraction) calls
:func:`message_from_bytes` here, never ``email.message_from_bytes`` and never the hand-written
parser directly (``tests/unit/test_parser_shims.py`` checks the imports). This module decides
which parser runs:

- ``mimeparse`` (with ``mimeparse_cursor``): a transcription of the stdlib's
  ``FeedParser._parsegen`` (3.11), decision by decision, over one string instead of a line
  deque, several times faster (the stdlib parser was about a third of the sanitizer's time).
  It must build the very tree the stdlib builds (a parser differential is an attack vector: a
  part one component sees and another does not); differential tests against the stdlib run
  on every CI run: ``tests/unit/test_mimeparse.py`` (real and generated mail, hand-written
  edge cases, every line ending) and ``tests/property/test_mimeparse_differential.py``
  (generated MIME-like and arbitrary bytes).
- the stdlib parser itself: for nesting deeper than ``mimeparse.MAX_DEPTH`` (so very deep
  nesting ends exactly as before: a tree, or ``RecursionError``, which the sanitizer maps to
  ``LimitExceeded``), and for every message on a Python newer than 3.13, whose feedparser
  has not been checked against the transcription (3.12 and 3.13 run the same algorithm as
  3.11: checked, and the differential tests pass on all three).

To drop the transcription, make :func:`message_from_bytes` call the stdlib and delete
``mimeparse*.py``: nothing else changes.
"""

from __future__ import annotations

import email
import sys
from email.message import Message
from email.policy import compat32

from mailguard_core.sanitize import mimeparse

__all__ = ["TRANSCRIBED", "message_from_bytes"]

#: whether this Python's feedparser is one ``mimeparse`` transcribes (3.11 to 3.13)
TRANSCRIBED = sys.version_info[:2] <= (3, 13)


def message_from_bytes(raw: bytes) -> Message:
    """``email.message_from_bytes(raw, policy=compat32)``: the same tree, faster.

    Raises:
        RecursionError: as the stdlib parser does for absurdly deep nesting.
    """
    if not TRANSCRIBED:
        return email.message_from_bytes(raw, policy=compat32)
    try:
        return mimeparse.parse_text(raw.decode("ascii", "surrogateescape"))
    except (mimeparse.TooDeep, RecursionError):
        return email.message_from_bytes(raw, policy=compat32)
