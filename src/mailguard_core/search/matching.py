"""In-memory evaluation of a search query (``search.query``'s AST) against one message: how the
in-memory and Maildir stores answer the query IMAP servers answer with SEARCH."""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Callable
from email.header import Header, decode_header
from email.message import Message

import attrs

from mailguard_core.sanitize.email_header_shim import chunk_text
from mailguard_core.sanitize.email_header_shim import decode_header as decode_words
from mailguard_core.search.query import Key, Node, Not, Or

__all__ = ["MessageView", "matches"]


@attrs.frozen(kw_only=True)
class MessageView:
    """What in-memory evaluation needs of one message."""

    uid: int
    flags: frozenset[str]
    internal_date: dt.datetime
    size: int
    message: Message = attrs.field(repr=False)
    body_text: str = attrs.field(repr=False)
    header_text: str = attrs.field(repr=False)


def _decoded(value: object) -> str:
    """A header value as text: raw 8-bit (UTF-8) bytes and RFC 2047 words both decoded."""
    try:
        if isinstance(value, Header):  # compat32 wraps undecodable 8-bit headers in a Header
            text = "".join(chunk_text(d, c) for d, c in decode_header(value))
        else:
            text = str(value)
        if "=?" in text:
            text = "".join(chunk_text(d, c) for d, c in decode_words(text))
    except (ValueError, LookupError, UnicodeError, AssertionError):
        return str(value)
    return text


def _header(msg: Message, name: str) -> str:
    return " ".join(_decoded(v) for v in (msg.get_all(name) or []))


def _contains(haystack: str, needle: str) -> bool:
    return needle.casefold() in haystack.casefold()


def _sent_date(msg: Message) -> dt.date | None:
    value = msg.get("Date")
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(str(value)).date()
    except (TypeError, ValueError):
        return None


def _uid_in_set(uid: int, spec: str, max_uid: int) -> bool:
    for part in spec.split(","):
        lo_s, _, hi_s = part.partition(":")
        lo = max_uid if lo_s == "*" else int(lo_s)
        hi = lo if not hi_s else (max_uid if hi_s == "*" else int(hi_s))
        if min(lo, hi) <= uid <= max(lo, hi):
            return True
    return False


_FLAG_KEYS: dict[str, tuple[str, bool]] = {
    "ANSWERED": ("\\Answered", True),
    "UNANSWERED": ("\\Answered", False),
    "DELETED": ("\\Deleted", True),
    "UNDELETED": ("\\Deleted", False),
    "DRAFT": ("\\Draft", True),
    "UNDRAFT": ("\\Draft", False),
    "FLAGGED": ("\\Flagged", True),
    "UNFLAGGED": ("\\Flagged", False),
    "SEEN": ("\\Seen", True),
    "UNSEEN": ("\\Seen", False),
}


def _match_key(key: Key, m: MessageView, max_uid: int) -> bool:
    name, args = key.name, key.args
    if name == "ALL":
        return True
    if name in _FLAG_KEYS:
        flag, present = _FLAG_KEYS[name]
        return (flag in m.flags) is present
    if name in ("KEYWORD", "UNKEYWORD"):
        has = any(f.casefold() == str(args[0]).casefold() for f in m.flags)
        return has is (name == "KEYWORD")
    if name in ("FROM", "TO", "CC", "BCC", "SUBJECT"):
        return _contains(_header(m.message, name), str(args[0]))
    if name == "HEADER":
        value = _header(m.message, str(args[0]))
        return (str(args[0]) in m.message) if args[1] == "" else _contains(value, str(args[1]))
    if name == "BODY":
        return _contains(m.body_text, str(args[0]))
    if name == "TEXT":
        return _contains(m.header_text, str(args[0])) or _contains(m.body_text, str(args[0]))
    if name in ("BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE"):
        day = m.internal_date.date() if not name.startswith("SENT") else _sent_date(m.message)
        if day is None:
            return False
        target = args[0]
        assert isinstance(target, dt.date)
        op = name.removeprefix("SENT")
        compare: Callable[[dt.date, dt.date], bool] = {
            "BEFORE": lambda a, b: a < b,
            "ON": lambda a, b: a == b,
            "SINCE": lambda a, b: a >= b,
        }[op]
        return compare(day, target)
    if name in ("LARGER", "SMALLER"):
        limit = args[0]
        assert isinstance(limit, int)
        return m.size > limit if name == "LARGER" else m.size < limit
    if name == "UID":
        return _uid_in_set(m.uid, str(args[0]), max_uid)
    raise AssertionError(f"unhandled key {name}")  # pragma: no cover


def matches(node: Node, message: MessageView, *, max_uid: int) -> bool:
    """Evaluate ``node`` against one message (``max_uid`` stands for ``*`` in UID sets)."""
    if isinstance(node, Key):
        return _match_key(node, message, max_uid)
    if isinstance(node, Not):
        return not matches(node.inner, message, max_uid=max_uid)
    if isinstance(node, Or):
        return matches(node.left, message, max_uid=max_uid) or matches(
            node.right, message, max_uid=max_uid
        )
    return all(matches(item, message, max_uid=max_uid) for item in node.items)
