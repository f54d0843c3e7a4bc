"""Attachment text extractors: one module per format, run in the isolated child process.

Each extractor turns the bytes of one document into an :class:`Extracted`: the text a reader
sees, the text it hides (by method), links, pages. They do no Unicode normalization and no
injection detection: :mod:`mailguard_core.sanitize.attachment` does that in the parent, with
the same functions as for a message body.
"""

from __future__ import annotations

from typing import Any

import attrs

from mailguard_core.sanitize.warnings import SecurityWarning

#: hidden text kept per method for the injection detector (never shown)
HIDDEN_SAMPLE_CHARS = 20_000


@attrs.frozen(kw_only=True)
class ExtractLimits:
    """What one extraction may cost (from ``attachment.ExtractOptions``)."""

    max_chars: int
    max_pages: int
    max_xml_bytes: int
    max_events: int


@attrs.define
class Extracted:
    """What an extractor found. Picklable: it crosses the process boundary."""

    text: str = ""
    extractor: str = ""
    pages: int | None = None
    truncated: bool = False
    #: method -> characters removed
    hidden: dict[str, int] = attrs.Factory(dict)
    #: method -> a sample of the removed text (for the injection detector only)
    hidden_text: dict[str, str] = attrs.Factory(dict)
    links: list[tuple[str, str]] = attrs.Factory(list)
    warnings: list[SecurityWarning] = attrs.Factory(list)
    limits_hit: list[str] = attrs.Factory(list)
    #: message/rfc822: the nested message's envelope (``SafeMessage.to_dict()``)
    nested: dict[str, Any] | None = None

    def hide(self, method: str, text: str, count: int | None = None) -> None:
        """Record ``text`` as removed by ``method`` (``count`` characters, default its length)."""
        if not text:
            return
        self.hidden[method] = self.hidden.get(method, 0) + (len(text) if count is None else count)
        sample = self.hidden_text.get(method, "")
        if len(sample) < HIDDEN_SAMPLE_CHARS:
            sample = f"{sample} {text}" if sample else text
            self.hidden_text[method] = sample[:HIDDEN_SAMPLE_CHARS]
