"""Search queries: one small AST, built from structured criteria or a validated raw expression.

The same AST is compiled into IMAP SEARCH arguments (:func:`to_imap_args`, used by
``ImapMailStore``) and evaluated in memory (``search.matching.matches``, used by the in-memory
and Maildir stores), so the stores agree on what a query means.

Safety of the IMAP form: nothing is concatenated from user text. Keys come from an allowlist;
every string argument is sent as a quoted string (``\\`` and ``"`` escaped) when ASCII, or as a
literal (length-prefixed, so its content is never parsed) when not; CR, LF, NUL and other
control characters are refused before anything is built; raw expressions may not contain
``{n}`` literal markers, unknown keys or bare message sequence numbers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import attrs

from mailguard_core.model.errors import InputError, InvalidSearchError
from mailguard_core.model.values import (
    UID_MAX,
    SearchCriteria,
    check_search_date,
    parse_search_date,
)

__all__ = [
    "And",
    "Key",
    "Node",
    "Not",
    "Or",
    "criteria_to_node",
    "parse_expression",
    "to_imap_args",
]

MAX_EXPRESSION_CHARS = 1000
MAX_TERM_CHARS = 500
MAX_TOKENS = 200
MAX_DEPTH = 10

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ATOM = re.compile(r"^[A-Za-z0-9$_.\-+&'!#~^`|]+$")
_HEADER_NAME = re.compile(r"^[!-9;-~]{1,76}$")
_UID_SET = re.compile(r"^(\d+|\*)(:(\d+|\*))?(,(\d+|\*)(:(\d+|\*))?)*$")

# key -> argument kinds: s string, d date, n number, k keyword atom, h header name, u uid set
_KEYS: dict[str, str] = {
    "ALL": "",
    "ANSWERED": "",
    "UNANSWERED": "",
    "DELETED": "",
    "UNDELETED": "",
    "DRAFT": "",
    "UNDRAFT": "",
    "FLAGGED": "",
    "UNFLAGGED": "",
    "SEEN": "",
    "UNSEEN": "",
    "FROM": "s",
    "TO": "s",
    "CC": "s",
    "BCC": "s",
    "SUBJECT": "s",
    "BODY": "s",
    "TEXT": "s",
    "KEYWORD": "k",
    "UNKEYWORD": "k",
    "HEADER": "hs",
    "BEFORE": "d",
    "ON": "d",
    "SINCE": "d",
    "SENTBEFORE": "d",
    "SENTON": "d",
    "SENTSINCE": "d",
    "LARGER": "n",
    "SMALLER": "n",
    "UID": "u",
}

Arg = str | int | dt.date


@attrs.frozen
class Key:
    name: str
    args: tuple[Arg, ...] = ()


@attrs.frozen
class Not:
    inner: Node


@attrs.frozen
class Or:
    left: Node
    right: Node


@attrs.frozen
class And:
    items: tuple[Node, ...]


Node = Key | Not | Or | And


# ---------------------------------------------------------------------------- validation
def _check_term(value: str, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidSearchError(f"{what} must be text", public=f"{what} must be text")
    if _CONTROL.search(value):
        raise InvalidSearchError(
            f"control character in {what}",
            public=f"{what} must not contain line breaks, NUL or other control characters",
        )
    if len(value) > MAX_TERM_CHARS:
        raise InvalidSearchError(
            f"{what} too long", public=f"{what} is limited to {MAX_TERM_CHARS} characters"
        )
    return value


def _parse_date(text: str) -> dt.date:
    """``31-Jan-2026`` (IMAP) or ``2026-01-31`` in the years the domain allows
    (:func:`~mailguard_core.model.values.check_search_date`, the one rule for search dates)."""
    m = re.fullmatch(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})", text, flags=re.ASCII)
    try:
        if not m:
            return parse_search_date(text)
        month = [x.lower() for x in _MONTHS].index(m.group(2).lower()) + 1
        return check_search_date(dt.date(int(m.group(3)), month, int(m.group(1))))
    except (ValueError, InputError):
        public = "dates look like 2026-01-31 or 31-Jan-2026, in the years 1900-9999"
        raise InvalidSearchError(f"bad date {text[:40]!r}", public=public) from None


def _check_uid_set(value: str) -> str:
    """A UID set whose every number is a UID (1..UID_MAX, :func:`check_uid`)."""
    if not _UID_SET.fullmatch(value):
        raise InvalidSearchError("bad uid set", public="UID needs a set like 1:5,9 or 100:*")
    for number in re.findall(r"\d+", value):
        if len(number) > 10 or not 1 <= int(number) <= UID_MAX:
            raise InvalidSearchError(
                f"uid {number[:20]} out of range", public=f"UIDs in a set must be 1-{UID_MAX}"
            )
    return value


def criteria_to_node(criteria: SearchCriteria) -> Node:
    """The AST of structured criteria (all fields ANDed; no field: every message)."""
    items: list[Node] = []
    for name, value in (
        ("FROM", criteria.from_),
        ("TO", criteria.to),
        ("SUBJECT", criteria.subject),
        ("TEXT", criteria.text),
    ):
        if value is not None:
            items.append(Key(name, (_check_term(value, name.lower()),)))
    if criteria.since is not None:
        items.append(Key("SINCE", (criteria.since,)))
    if criteria.before is not None:
        items.append(Key("BEFORE", (criteria.before,)))
    if criteria.seen is not None:
        items.append(Key("SEEN" if criteria.seen else "UNSEEN"))
    if criteria.flagged is not None:
        items.append(Key("FLAGGED" if criteria.flagged else "UNFLAGGED"))
    if criteria.has_attachment is not None:
        # IMAP has no attachment key: approximated by a multipart/mixed top-level type
        mixed = Key("HEADER", ("Content-Type", "multipart/mixed"))
        items.append(mixed if criteria.has_attachment else Not(mixed))
    return And(tuple(items)) if items else Key("ALL")


# ---------------------------------------------------------------------------- raw parser
_TOKEN = re.compile(r'\s*(?:(?P<paren>[()])|"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<atom>[^\s()"]+))')


def _tokenize(text: str) -> list[tuple[str, str]]:
    if not isinstance(text, str) or not text.strip():
        raise InvalidSearchError("empty expression", public="the search expression is empty")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise InvalidSearchError(
            "expression too long",
            public=f"the search expression is limited to {MAX_EXPRESSION_CHARS} characters",
        )
    _check_term(text, "the search expression")
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise InvalidSearchError(
                "unbalanced quote", public="the search expression has an unterminated quote"
            )
        pos = m.end()
        if m.group("paren"):
            tokens.append(("paren", m.group("paren")))
        elif m.group("quoted") is not None:
            tokens.append(("string", re.sub(r"\\(.)", r"\1", m.group("quoted"))))
        else:
            atom = m.group("atom")
            if "{" in atom or "}" in atom:
                raise InvalidSearchError(
                    "literal marker in expression",
                    public="literals ({n}) are not allowed; quote the text instead",
                )
            tokens.append(("atom", atom))
        if len(tokens) > MAX_TOKENS:
            raise InvalidSearchError("too many tokens", public="the search expression is too long")
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def _next(self, what: str) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise InvalidSearchError(
                f"expression ends early: {what} expected",
                public=f"the search expression ends early ({what} expected)",
            )
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def sequence(self, depth: int, *, closing: bool) -> Node:
        items: list[Node] = []
        while self.pos < len(self.tokens):
            if self.tokens[self.pos] == ("paren", ")"):
                if not closing:
                    raise InvalidSearchError("unbalanced ')'", public="unbalanced parentheses")
                break
            items.append(self.key(depth))
        if not items:
            raise InvalidSearchError("empty group", public="empty search group")
        return items[0] if len(items) == 1 else And(tuple(items))

    def key(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise InvalidSearchError("nested too deep", public="the search is nested too deeply")
        kind, value = self._next("a search key")
        if (kind, value) == ("paren", "("):
            inner = self.sequence(depth + 1, closing=True)
            if self._next("')'") != ("paren", ")"):  # pragma: no cover - sequence stops at ')'
                raise InvalidSearchError("unbalanced '('", public="unbalanced parentheses")
            return inner
        if kind != "atom":
            raise InvalidSearchError(
                f"unexpected {value!r}", public="a search key was expected (for example FROM)"
            )
        name = value.upper()
        if name == "NOT":
            return Not(self.key(depth + 1))
        if name == "OR":
            return Or(self.key(depth + 1), self.key(depth + 1))
        if name not in _KEYS:
            raise InvalidSearchError(
                f"unknown search key {value[:40]!r}",
                public="unknown search key; allowed: " + ", ".join(sorted({*_KEYS, "NOT", "OR"})),
            )
        return Key(name, tuple(self._arg(name, kind) for kind in _KEYS[name]))

    def _arg(self, name: str, kind: str) -> Arg:
        tkind, value = self._next(f"an argument of {name}")
        if tkind == "paren":
            raise InvalidSearchError(
                f"{name} needs an argument", public=f"{name} needs an argument"
            )
        if kind == "s":
            return _check_term(value, f"the {name} term")
        if kind == "h":
            if not _HEADER_NAME.fullmatch(value):
                raise InvalidSearchError("bad header name", public="invalid header field name")
            return value
        if kind == "k":
            return validate_keyword(value)
        if kind == "d":
            return _parse_date(value)
        if kind == "n":  # a 32-bit number (RFC 3501 ``number``)
            if not (value.isascii() and value.isdigit()) or len(value) > 10 or int(value) > UID_MAX:
                raise InvalidSearchError(
                    "bad number", public=f"{name} needs a number of bytes (0-{UID_MAX})"
                )
            return int(value)
        return _check_uid_set(value)


def validate_keyword(value: str) -> str:
    """A keyword (IMAP flag atom, not a system flag)."""
    if not isinstance(value, str) or not _ATOM.fullmatch(value) or len(value) > 100:
        raise InvalidSearchError(
            f"bad keyword {value!r}",
            public="keywords are letters, digits and $_.-+ (no spaces or backslashes)",
        )
    return value


def parse_expression(text: str) -> Node:
    """Parse and validate a raw IMAP SEARCH expression into the AST.

    Raises:
        InvalidSearchError: control characters, literals, unknown keys, bad arguments,
            unbalanced parentheses, or limits (length, tokens, depth) exceeded.
    """
    tokens = _tokenize(text)
    parser = _Parser(tokens)
    node = parser.sequence(0, closing=False)
    if parser.pos != len(tokens):  # pragma: no cover - sequence consumes everything or raises
        raise InvalidSearchError("trailing tokens", public="unbalanced parentheses")
    return node


# ---------------------------------------------------------------------------- IMAP form
def _imap_date(value: dt.date) -> bytes:
    # RFC 3501 date-year is exactly four digits ("1-Jan-1" is a BAD on Dovecot)
    return f"{value.day}-{_MONTHS[value.month - 1]}-{value.year:04d}".encode("ascii")


def _imap_string(value: str) -> bytes:
    if value.isascii():
        return b'"' + value.encode("ascii").replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
    return value.encode("utf-8")  # 8-bit: imapclient sends it as a literal


def _is_8bit(item: bytes) -> bool:
    return any(b > 0x7F for b in item)


def _emit(node: Node, out: list[bytes]) -> None:
    if isinstance(node, Key):
        out.append(node.name.encode("ascii"))
        for kind, arg in zip(_KEYS[node.name], node.args, strict=True):
            if isinstance(arg, dt.date):
                out.append(_imap_date(arg))
            elif isinstance(arg, int):
                out.append(str(arg).encode("ascii"))
            elif kind in "sh":
                out.append(_imap_string(arg))
            else:  # keyword atom or uid set, validated
                out.append(arg.encode("ascii"))
    elif isinstance(node, Not):
        out.append(b"NOT")
        _emit_grouped(node.inner, out)
    elif isinstance(node, Or):
        out.append(b"OR")
        _emit_grouped(node.left, out)
        _emit_grouped(node.right, out)
    else:
        for item in node.items:
            _emit(item, out)


def _emit_grouped(node: Node, out: list[bytes]) -> None:
    if not isinstance(node, And) or len(node.items) == 1:
        _emit(node.items[0] if isinstance(node, And) else node, out)
        return
    inner: list[bytes] = []
    _emit(node, inner)
    if _is_8bit(inner[-1]):
        inner.append(b"ALL")  # a literal cannot carry ")"; AND with ALL changes nothing
    inner[0] = b"(" + inner[0]  # the first item is always a key atom
    inner[-1] = inner[-1] + b")"
    out.extend(inner)


def to_imap_args(node: Node) -> tuple[list[bytes], bool]:
    """IMAP SEARCH arguments for ``node`` and whether ``CHARSET UTF-8`` is needed."""
    out: list[bytes] = []
    _emit(node, out)
    if not out:
        out = [b"ALL"]
    return out, any(_is_8bit(item) for item in out)


def describe(node: Node) -> str:
    """A canonical text form of ``node`` (used for cursor fingerprints)."""
    args, _ = to_imap_args(node)
    return " ".join(a.decode("utf-8", "replace") for a in args)


def flatten_and(nodes: Sequence[Node]) -> Node:
    """AND of ``nodes`` (one node stays itself)."""
    return nodes[0] if len(nodes) == 1 else And(tuple(nodes))
