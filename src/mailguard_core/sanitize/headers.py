"""Header decoding (RFC 2047, raw 8-bit), smuggling checks, addresses and provenance."""

from __future__ import annotations

import email.header
import email.utils
import re
import sys
from collections.abc import Sequence
from email.message import Message
from typing import Any

from mailguard_core.sanitize.email_header_shim import decode_header
from mailguard_core.sanitize.text import normalize_text, truncate_graphemes
from mailguard_core.sanitize.warnings import WarningCollector

_SURROGATE_RE = re.compile("[\udc80-\udcff]")
_FOLD_RE = re.compile(r"\r?\n[ \t]")
_MAX_HEADER_CHARS = 998
#: decode_value reads at most this many characters of input per character of output
_READ_FACTOR = 16
_TOKEN_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_AUTH_RESULT_RE = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.I)
_AUTH_VALUES = frozenset(
    {"pass", "fail", "softfail", "neutral", "none", "temperror", "permerror", "policy", "hardfail"}
)
_WINDOWS_1252_LABELS = frozenset(
    {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "windows-1252", "cp1252",
     "iso_8859-1", "x-cp1252"}
)  # fmt: skip
_FAILED = frozenset({"fail", "hardfail"})
_MAX_ADDRESS_HEADER = 65_536
_COMPLEX_ADDRESS_CHARS = re.compile(r"[()\\;:\[\]]")
_ADDR = r"[^<>\s,@]+@[^<>\s,@]+"
#: one entry of a plain address list, matched at a position: ``\s*(?:"([^"]*)"\s*<(A)>
#: |([^<>@,"]*?)\s*<(A)>|(A))?\s*(?:,|$)`` spelled so that it cannot backtrack into a blank
#: run (that spelling took cubic time: 4,000 blanks then ``x`` in a To: header, 30 s). Same
#: matches: the leading blanks are possessive (an entry that fails after all of them fails
#: after fewer: only the name could take them, and a name that starts with blanks succeeds as
#: one without them); the name is the blank-separated runs of its characters, possessive,
#: which is what the lazy name stopped at (the name's characters run up to the first of
#: ``<>@,"``, the ``<`` must be that character with only blanks before it, so every lazy try
#: that succeeds stops at the same place, and the shortest one is the name without its
#: trailing blanks). tests/property/test_redos_linear.py compares both spellings.
_SIMPLE_ENTRY_RE = re.compile(
    rf'\s*+(?:"([^"]*)"\s*<({_ADDR})>|((?:\s*+[^<>@,"\s]+)*+)\s*<({_ADDR})>|({_ADDR}))?\s*(?:,|$)'
)
_BARE_ADDRESS_RE = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}")
_LIST_TOKEN_RE = re.compile(
    r"(?:(?:mailto:|https?://)[^\s<>\"']{1,190}|[A-Za-z0-9][A-Za-z0-9._-]{0,199})"
)
_ANGLE_RE = re.compile(r"<([^<>]{1,500})>")


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, bool]:
    """Decode with ``charset``; on an unknown or lying charset fall back (UTF-8, then cp1252).

    Returns the text and whether a fallback was needed.
    """
    if charset:
        name = charset.strip().strip("\"'").lower() or "ascii"
        if name in _WINDOWS_1252_LABELS:
            # mail clients, like browsers (WHATWG), read Latin-1 and ASCII labels as cp1252
            try:
                return data.decode("cp1252"), False
            except UnicodeDecodeError:
                return data.decode("latin-1"), False
        try:
            return data.decode(name), False
        except (LookupError, UnicodeError, ValueError, TypeError):
            pass
    try:
        return data.decode("utf-8"), charset is not None and charset.lower() not in (
            "us-ascii", "ascii", "utf-8", "utf8",
        )  # fmt: skip
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), True


class HeaderIndex:
    """A message's headers by lower-cased name, built once (``Message.get_all`` rescans)."""

    def __init__(self, msg: Message) -> None:
        self._map: dict[str, list[Any]] = {}
        self.count = 0
        for name, value in msg.raw_items():
            self._map.setdefault(name.lower(), []).append(value)
            self.count += 1

    def get_all(self, name: str) -> list[Any] | None:
        """Every value of header ``name`` (raw), or None."""
        return self._map.get(name.lower())


def raw_header(msg: HeaderIndex | Message, name: str) -> str | None:
    """The first value of header ``name`` as a str (8-bit bytes decoded), or None."""
    values = msg.get_all(name)
    if not values:
        return None
    return header_str(values[0])


def header_str(value: Any) -> str:
    """A header value from the compat32 parser as str; raw 8-bit bytes decoded as UTF-8/cp1252."""
    if isinstance(value, email.header.Header):
        chunks = []
        for part, charset in email.header.decode_header(value):
            if isinstance(part, bytes):
                chunks.append(
                    decode_bytes(part, None if charset in (None, "unknown-8bit") else charset)[0]
                )
            else:
                chunks.append(part)
        return "".join(chunks)
    text = str(value)
    if not text.isascii() and _SURROGATE_RE.search(text):  # a surrogate is not ASCII
        raw = text.encode("ascii", errors="surrogateescape")
        return decode_bytes(raw, None)[0]
    return text


#: address headers whose display name the identity and phishing checks read
_SENDER_LOCATIONS = frozenset({"header:from", "header:sender", "header:reply-to"})


def decode_value(
    raw: str,
    *,
    location: str,
    warnings: WarningCollector,
    limit: int = _MAX_HEADER_CHARS,
    normalize: bool = True,
) -> str:
    """Decode encoded words, block CR/LF smuggling, normalize; at most ``limit`` characters.

    Only the first ``limit * 16`` characters of ``raw`` are read (a ``mime_limit_exceeded``
    warning names ``max_header_chars`` when more were there): even base64 words of 4-byte
    UTF-8 characters stay within that for ``limit`` characters of output, so only a value
    padded to make the sanitizer work for nothing is cut.
    """
    if raw.isascii() and raw.isprintable() and "=?" not in raw:
        return raw.strip()[:limit]  # plain printable ASCII: nothing to decode, strip or fold
    if len(raw) > limit * _READ_FACTOR:
        raw = raw[: limit * _READ_FACTOR]
        # informational: the value is cut far beyond what is shown (``limit`` characters);
        # nothing the reader sees in the first ``limit`` characters went unchecked
        warnings.add(
            "mime_limit_exceeded",
            location,
            {"limit": "max_header_chars"},
            severity="informational",
        )
    unfolded = _FOLD_RE.sub(" ", raw)
    smuggled = 0
    if "\r" in unfolded or "\n" in unfolded:
        smuggled += 1
        unfolded = re.sub(r"[\r\n]+", " ", unfolded)
    text = unfolded
    if "=?" in unfolded:
        chunks: list[str] = []
        for part, charset in decode_header(unfolded):
            if isinstance(part, bytes):
                decoded, fallback = decode_bytes(part, charset)
                if fallback:
                    warnings.count("charset_fallback", location, 1)
                chunks.append(decoded)
            else:
                chunks.append(part)
        text = "".join(chunks)
        if "\r" in text or "\n" in text or "\x00" in text:
            smuggled += 1
            text = re.sub(r"[\r\n\x00]+", " ", text)
    if smuggled:
        warnings.count("mime_header_smuggling_blocked", location, smuggled)
    if not normalize:
        return text
    text = normalize_text(text, location, warnings).replace("\n", " ").replace("\t", " ")
    text, _ = truncate_graphemes(text.strip(), limit)
    return text


def _simple_addresses(values: list[str]) -> list[tuple[str, str]] | None:
    """Parse plain ``"Name" <a@b>, c@d`` lists by regex; None when the stdlib parser is needed."""
    pairs: list[tuple[str, str]] = []
    for value in values:
        if _COMPLEX_ADDRESS_CHARS.search(value):
            return None
        pos, end = 0, len(value.rstrip())
        while pos < end:
            match = _SIMPLE_ENTRY_RE.match(value, pos)
            if match is None or match.end() == pos:
                return None
            quoted, addr1, name, addr2, bare = match.groups()
            if addr1 or addr2 or bare:
                pairs.append((quoted if addr1 else (name or ""), addr1 or addr2 or bare))
            pos = match.end()
    return pairs


#: the most characters a :data:`_BARE_ADDRESS_RE` match has before and after its ``@``
_BEFORE_AT, _AFTER_AT = 64, 63 + 8 * 64


def _bare_addresses(value: str) -> list[str]:
    """``_BARE_ADDRESS_RE.findall(value)``, scanning only from 64 characters before the
    first ``@`` to the longest domain after the last one: every match holds an ``@`` and
    the pattern has no look-around, so no match lies outside (a 64 kB run of word
    characters cost the regex ~64 steps per position)."""
    first = value.find("@")
    if first < 0:
        return []
    end = value.rfind("@") + 1 + _AFTER_AT
    return _BARE_ADDRESS_RE.findall(value, max(0, first - _BEFORE_AT), end)


#: ``"name" <local@domain>,`` or ``local@domain,``: entries the stdlib address parser reads
#: as one address each and leaves at the start of the next (no quote escapes, no comments,
#: no groups, blanks as the parser knows them)
_PLAIN_ENTRIES_RE = re.compile(
    r'(?:[ \t\r\n]*(?:"[^"\\\r]*"[ \t\r\n]*<[^<>"\\()\[\]:;@,\s]+@[^<>"\\()\[\]:;@,\s]+>'
    r'|[^<>"\\()\[\]:;@,\s]+@[^<>"\\()\[\]:;@,\s]+)[ \t\r\n]*,)*'
)
#: what can end a group, open a quote, comment, route or domain literal, or start an addr-spec
_GROUP_ENDS_RE = re.compile(r'["()<>\[\]\\@,;]')


def nests_past_recursion_limit(value: str) -> bool:
    """True when the stdlib address parser (``email.utils.getaddresses``) is bound to raise
    :class:`RecursionError` on ``value``: after plain entries, only phrases (atoms, dots,
    blanks) and colons follow. There each colon opens a group (``name:``) inside the one
    before and nothing closes one (no ``;``), so the parser recurses once per colon; with at
    least as many colons as the recursion limit it cannot finish at any call depth. Saves
    the ~10 ms the parser spends getting there (a 64 kB header of encoded words with times
    in them); the answer is the same fallback."""
    if value.count(":") < sys.getrecursionlimit():
        return False
    plain = _PLAIN_ENTRIES_RE.match(value)
    rest = value[plain.end() if plain else 0 :]
    return _GROUP_ENDS_RE.search(rest) is None and rest.count(":") >= sys.getrecursionlimit()


def addresses(
    msg: HeaderIndex | Message, name: str, *, location: str, warnings: WarningCollector
) -> list[dict[str, str]]:
    """The address list of header ``name`` as ``[{"name", "address"}]``, sanitized."""
    values = msg.get_all(name)
    if not values:
        return []
    raw = [_FOLD_RE.sub(" ", header_str(v)) for v in values[:8]]
    out: list[dict[str, str]] = []
    try:
        pairs = _simple_addresses(raw)
        if pairs is None:
            values = [v[:_MAX_ADDRESS_HEADER] for v in raw]
            if nests_past_recursion_limit(", ".join(values)):
                # what the stdlib parser would raise, after recursing ~1,000 levels
                raise RecursionError("address groups nested past the recursion limit")
            pairs = email.utils.getaddresses(values)
    except (ValueError, IndexError, TypeError, RecursionError):
        # the stdlib address parser recurses per token: fall back to bare addresses
        # the display names are lost: on a sender header that blinds the identity checks
        # (adversarial); on a recipient list only the names are missing (informational)
        warnings.add(
            "mime_limit_exceeded",
            location,
            {"limit": "address_header_complexity"},
            severity="adversarial" if location in _SENDER_LOCATIONS else "informational",
        )
        pairs = [("", a) for v in raw for a in _bare_addresses(v[:_MAX_ADDRESS_HEADER])]
    for display, address in pairs[:200]:
        if not display and not address:
            continue
        out.append(
            {
                "name": decode_value(display, location=location, warnings=warnings, limit=200),
                "address": decode_value(address, location=location, warnings=warnings, limit=320),
            }
        )
    return out


def _token(value: str | None) -> str | None:
    if not value:
        return None
    match = _TOKEN_RE.match(value.strip().lower())
    return match.group(0) if match else None


def _angle_value(raw: str | None, location: str, warnings: WarningCollector) -> str | None:
    """The ``<...>`` part of a list header (or the whole value) if it is a single token.

    These values land in ``meta`` (outside the untrusted fence), so only a dot-atom list id
    or a space-free ``mailto:``/``http(s):`` URL is kept; anything else becomes null.
    """
    if not raw:
        return None
    inner = _ANGLE_RE.search(raw)
    value = decode_value(
        inner.group(1) if inner else raw, location=location, warnings=warnings, limit=200
    )
    return value if _LIST_TOKEN_RE.fullmatch(value) else None


def provenance(
    msg: HeaderIndex | Message,
    *,
    trusted_authserv_id: str | None,
    warnings: WarningCollector,
) -> dict[str, Any]:
    """``meta.provenance``: mailing list, bulk, auto-submitted and trusted authentication."""
    list_id_raw = raw_header(msg, "List-Id")
    list_post_raw = raw_header(msg, "List-Post")
    unsubscribe = raw_header(msg, "List-Unsubscribe") is not None
    mailing_list = None
    if list_id_raw is not None or list_post_raw is not None:
        mailing_list = {
            "list_id": _angle_value(list_id_raw, "header:list-id", warnings),
            "list_post": _angle_value(list_post_raw, "header:list-post", warnings),
            "unsubscribe": unsubscribe,
        }
    precedence = _token(raw_header(msg, "Precedence"))
    bulk = precedence in ("bulk", "list", "junk") or unsubscribe or list_id_raw is not None
    auto = _token(raw_header(msg, "Auto-Submitted"))
    return {
        "mailing_list": mailing_list,
        "bulk": bulk,
        "auto_submitted": None if auto in (None, "no") else auto,
        "authentication": _authentication(msg, trusted_authserv_id, warnings),
    }


def _authentication(
    msg: HeaderIndex | Message, trusted: str | None, warnings: WarningCollector
) -> dict[str, Any] | None:
    if not trusted:
        return None
    result: dict[str, Any] = {"authserv_id": trusted, "spf": None, "dkim": None, "dmarc": None}
    for value in (msg.get_all("Authentication-Results") or [])[:50]:
        text = _FOLD_RE.sub(" ", header_str(value))
        authserv = text.split(";", 1)[0].strip().split()
        if not authserv or authserv[0].lower() != trusted.lower():
            continue
        for method, verdict in _AUTH_RESULT_RE.findall(text.split(";", 1)[-1]):
            key, verdict = method.lower(), verdict.lower()
            if result[key] is None and verdict in _AUTH_VALUES:
                result[key] = verdict
        break
    failed = sorted(k for k in ("spf", "dkim", "dmarc") if result[k] in _FAILED)
    if failed:
        warnings.add("sender_auth_failed", "header:authentication-results", {"failed": failed})
    return result


def list_domains(prov: dict[str, Any]) -> Sequence[str]:
    """Domains named by the mailing-list headers (a list's Reply-To may point there)."""
    found: list[str] = []
    ml = prov.get("mailing_list") or {}
    for value in (ml.get("list_id"), ml.get("list_post")):
        if value:
            tail = str(value).rsplit("@", 1)[-1]
            found.append(tail.strip(" >").lower())
    return found
