"""Addresses, display names and header text a caller supplies for an outgoing message,
checked (pure, no I/O): the rules are listed in :mod:`mailguard_core.model.compose`, which
builds the message from them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import attrs

from mailguard_core.model.errors import HeaderInjectionError, InputError, LimitExceeded

#: characters never allowed in a header value mailguard writes
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: RFC 5322 atext (dot-atom local parts only)
_ATEXT = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def validate_header_text(value: str, *, field: str) -> str:
    """Return ``value`` if it holds no line break or control character.

    Raises:
        HeaderInjectionError: naming ``field`` (never echoing the value).
    """
    if _FORBIDDEN.search(value):
        raise HeaderInjectionError(
            f"{field} contains a line break or control character",
            public=f"the {field} contains a line break or control character",
        )
    return value


def validate_domain(domain: str) -> str:
    """The domain, IDNA-encoded and lower case, if it is a valid host name with a dot.

    Raises:
        HeaderInjectionError: control characters.
        InputError: anything else that is not a domain.
    """
    validate_header_text(domain, field="domain")
    bad = InputError(f"invalid domain {domain!r}", public="invalid domain name")
    if not domain or domain.strip() != domain:
        raise bad
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise bad from None
    labels = ascii_domain.split(".")
    if (
        len(ascii_domain) > 253
        or len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise bad
    return ascii_domain


def validate_address(address: str) -> str:
    """The bare address ``local@domain`` with the domain IDNA-encoded and lower case.

    Raises:
        HeaderInjectionError: a control character or line break.
        InputError: not exactly one plain address (the public message says what is wrong).
    """
    validate_header_text(address, field="address")
    local, at, domain = address.rpartition("@")
    if not at or not local:
        raise InputError(
            "address without '@'", public=f"invalid address {_shown(address)}: need local@domain"
        )
    if not local.isascii():
        raise InputError(
            "non-ASCII local part",
            public="addresses with non-ASCII characters before '@' are not supported (SMTPUTF8)",
        )
    if len(local) > 64 or not _ATEXT.fullmatch(local):
        raise InputError(
            "bad local part",
            public=f"invalid address {_shown(address)}: the part before '@' is not a plain "
            "name (no quotes, spaces, comments or lists)",
        )
    try:
        ascii_domain = validate_domain(domain)
    except HeaderInjectionError:
        raise
    except InputError:
        raise InputError(
            "bad domain", public=f"invalid address {_shown(address)}: bad domain"
        ) from None
    result = f"{local}@{ascii_domain}"
    if len(result) > 254:
        raise InputError("address too long", public="invalid address: longer than 254 characters")
    return result


def _shown(text: str) -> str:
    """A short, quoted rendering of caller input for an error message (no controls)."""
    short = text if len(text) <= 80 else text[:77] + "..."
    return repr(short)


@attrs.frozen(kw_only=True)
class Mailbox:
    """One checked ``Name <address>``; ``address`` is plain ASCII."""

    address: str
    display_name: str = ""


def clean_display_name(name: str) -> str:
    """A display name as it goes into a header: NFC, without Unicode format characters
    (bidi embeddings, overrides and isolates, zero-width characters, tag characters: they can
    make a name read differently from what it holds), runs of white space as one space."""
    normal = unicodedata.normalize("NFC", name)
    kept = "".join(c for c in normal if unicodedata.category(c) != "Cf")
    return " ".join(kept.split())


def parse_mailbox(text: str) -> Mailbox:
    """Parse ``addr`` or ``Display Name <addr>`` (the name may be double-quoted).

    Raises:
        HeaderInjectionError: control characters or line breaks anywhere.
        InputError: not exactly one address.
    """
    if not isinstance(text, str):
        raise InputError("recipient is not a string", public="each recipient must be a string")
    validate_header_text(text, field="recipient")
    stripped = text.strip()
    name = ""
    address = stripped
    if stripped.endswith(">"):
        before, lt, inner = stripped[:-1].rpartition("<")
        if not lt:
            raise InputError("unbalanced '<>'", public=f"invalid address {_shown(text)}")
        address = inner.strip()
        name = before.strip()
        if len(name) >= 2 and name.startswith('"') and name.endswith('"'):
            name = name[1:-1]
    name = clean_display_name(name)
    if any(c in name for c in '<>"\\'):
        raise InputError(
            "bad display name",
            public=f'invalid address {_shown(text)}: the name may not contain < > " or \\',
        )
    if len(name) > 200:
        raise LimitExceeded("display name too long", public="a display name is too long")
    return Mailbox(address=validate_address(address), display_name=name)


def recipient_allowed(address: str, allowlist: Iterable[str]) -> bool:
    """Whether ``address`` (checked, ASCII) matches an exact address or a bare domain entry.

    Matching is case-insensitive; a domain entry matches that domain only, not subdomains.
    """
    lowered = address.lower()
    domain = lowered.rpartition("@")[2]
    for entry in allowlist:
        entry = entry.lower()
        if entry == lowered if "@" in entry else entry == domain:
            return True
    return False
