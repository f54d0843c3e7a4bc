"""Value objects shared by the ports, the services and the adapters.

All are frozen attrs classes with keyword-only arguments. They carry data that mailguard
produced or checked; raw message content stays ``bytes`` until the sanitizer has seen it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

import attrs

from mailguard_core.model.errors import InputError

#: an account name: short ASCII (letters, digits, ``_ . -``), so it fits unescaped in message
#: refs, environment variable names and keyring entries. The one spelling of the rule:
#: :func:`validate_account_name` and the tool schemas use it.
ACCOUNT_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
_ACCOUNT_RE = re.compile(rf"^{ACCOUNT_NAME_PATTERN}$")

#: IMAP UIDs, UIDVALIDITY values and SEARCH numbers are 32-bit (RFC 3501 ``nz-number``,
#: ``number``): a UID is 1..UID_MAX, a UIDVALIDITY 0..UID_MAX (0: the server gave none)
UID_MAX = 4_294_967_295
#: the years a search date may have: written with four digits on the wire (RFC 3501
#: ``date-year``), from the first year every server's date handling covers
SEARCH_YEAR_MIN = 1900
SEARCH_YEAR_MAX = 9999


def decimal_pattern(low: int, high: int) -> str:
    """A regular expression (no anchors) matching exactly the decimal numbers ``low..high``
    written without leading zeros, for JSON schemas that must agree with the domain's
    checks (``tests`` compare both on every number around the edges)."""
    if not 0 <= low <= 1 or high < low:
        raise ValueError("decimal_pattern supports low 0 or 1 and high >= low")
    top = str(high)
    options = ["0"] if low == 0 else []
    if len(top) > 1:  # every shorter number: 1..10**(n-1)-1
        options.append("[1-9]" if len(top) == 2 else f"[1-9][0-9]{{0,{len(top) - 2}}}")
    for i, digit in enumerate(top):  # same length: below `top` from position i on
        first = 1 if i == 0 else 0
        if int(digit) > first:
            rest = len(top) - i - 1
            tail = f"[0-9]{{{rest}}}" if rest else ""
            options.append(f"{top[:i]}[{first}-{int(digit) - 1}]{tail}")
    if high >= 1:
        options.append(top)
    return "(?:" + "|".join(options) + ")"


#: schema pattern pieces that agree with :func:`check_uid` and :func:`check_uidvalidity`
UID_PATTERN = decimal_pattern(1, UID_MAX)
UIDVALIDITY_PATTERN = decimal_pattern(0, UID_MAX)
#: ``account:folder:uidvalidity:uid`` as :meth:`MessageRef.parse` accepts it (the tool schemas'
#: pattern; the folder is any non-empty text, which may hold ``:``)
MESSAGE_REF_PATTERN = rf"{ACCOUNT_NAME_PATTERN}:.+:{UIDVALIDITY_PATTERN}:{UID_PATTERN}"
#: a keyword (an IMAP flag atom, RFC 3501, that is not a system flag): no backslash first; no
#: space, parenthesis, brace, wildcard, quote, ``]`` or control character anywhere
KEYWORD_PATTERN = r'[^\\\s(){}%*"\]\x00-\x1f\x7f][^\s(){}%*"\]\x00-\x1f\x7f]*'
KEYWORD_MAX_CHARS = 128
#: YYYY-MM-DD with a year SEARCH_YEAR_MIN..SEARCH_YEAR_MAX (agrees with check_search_date)
SEARCH_DATE_PATTERN = r"(?:19[0-9]{2}|[2-9][0-9]{3})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"


def parse_keyword(label: str) -> str:
    """``label`` if it is one keyword (:data:`KEYWORD_PATTERN`, at most
    :data:`KEYWORD_MAX_CHARS` characters), else :class:`InputError`."""
    if len(label) > KEYWORD_MAX_CHARS or not re.fullmatch(KEYWORD_PATTERN, label):
        raise InputError(
            f"invalid label {label!r}",
            public="a label is one IMAP atom (no spaces, brackets or quotes) and not a "
            "system flag such as \\Seen",
        )
    return label


def check_uid(value: int) -> int:
    """``value`` if it is a valid IMAP UID (1..UID_MAX), else :class:`InputError`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= UID_MAX:
        raise InputError(f"uid {value!r} out of range", public=f"uid must be 1-{UID_MAX}")
    return value


def check_uidvalidity(value: int) -> int:
    """``value`` if it is a valid UIDVALIDITY (0..UID_MAX), else :class:`InputError`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= UID_MAX:
        raise InputError(
            f"uidvalidity {value!r} out of range", public=f"uidvalidity must be 0-{UID_MAX}"
        )
    return value


def check_search_date(value: dt.date, what: str = "date") -> dt.date:
    """``value`` if its year is one every server takes (SEARCH_YEAR_MIN..SEARCH_YEAR_MAX)."""
    if not SEARCH_YEAR_MIN <= value.year <= SEARCH_YEAR_MAX:
        raise InputError(
            f"{what} {value.isoformat()} out of range",
            public=f"{what} must be a date in the years {SEARCH_YEAR_MIN}-{SEARCH_YEAR_MAX}",
        )
    return value


def parse_search_date(text: str, what: str = "date") -> dt.date:
    """``YYYY-MM-DD`` (ASCII digits, a real calendar day) in the years
    SEARCH_YEAR_MIN..SEARCH_YEAR_MAX, else :class:`InputError`. The one parser of a caller's
    search date (the tool schema's pattern is :data:`SEARCH_DATE_PATTERN`)."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise InputError(f"bad date {text[:40]!r}", public=f"{what} must be a date YYYY-MM-DD")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"bad date {text!r}", public=f"{what} must be a real date YYYY-MM-DD"
        ) from None
    return check_search_date(day, what)


def _optional_search_date(_instance: object, attribute: Any, value: dt.date | None) -> None:
    if value is not None:
        check_search_date(value, attribute.name)


#: a ref's numbers: ASCII decimal without leading zeros, at most 10 digits before int()
_CANONICAL_NUMBER = re.compile(r"0|[1-9][0-9]{0,9}")


def validate_account_name(name: str) -> str:
    """Return ``name`` if it is a valid account name, else raise :class:`InputError`.

    Account names are short ASCII identifiers (letters, digits, ``_ . -``) so that they can
    appear in message refs, environment variable names and keyring entries unescaped.
    """
    if not _ACCOUNT_RE.fullmatch(name):
        raise InputError(
            f"invalid account name {name!r}",
            public="account names are 1-64 characters: letters, digits, '_', '.', '-'",
        )
    return name


@attrs.frozen(kw_only=True, order=True)
class MessageRef:
    """Where one message lives: ``account:folder:uidvalidity:uid``.

    The folder is the exact (decoded) name the server uses. A ref whose UIDVALIDITY no longer
    matches the folder's is stale and refused with
    :class:`~mailguard_core.model.errors.StaleReference`.
    """

    account: str
    folder: str
    uidvalidity: int = attrs.field(validator=lambda _i, _a, v: check_uidvalidity(v))
    uid: int = attrs.field(validator=lambda _i, _a, v: check_uid(v))

    def __str__(self) -> str:
        return f"{self.account}:{self.folder}:{self.uidvalidity}:{self.uid}"

    @classmethod
    def parse(cls, text: str) -> MessageRef:
        """Parse ``account:folder:uidvalidity:uid``; the folder may itself contain ``:``.

        The numbers are decimal without leading zeros, the UID 1..UID_MAX and the UIDVALIDITY
        0..UID_MAX (:func:`check_uid`, :func:`check_uidvalidity`: the tool schemas'
        patterns agree).

        Raises:
            InputError: the text is not a well-formed ref.
        """
        account, sep, rest = text.partition(":")
        folder, sep2, numbers = rest.rpartition(":")
        folder, sep3, uidvalidity = folder.rpartition(":")
        uid = numbers
        if not (sep and sep2 and sep3 and folder) or not (
            _CANONICAL_NUMBER.fullmatch(uidvalidity) and _CANONICAL_NUMBER.fullmatch(uid)
        ):
            raise InputError(
                f"malformed message ref {text!r}",
                public="message_ref must look like account:folder:uidvalidity:uid",
            )
        validate_account_name(account)
        return cls(
            account=account,
            folder=folder,
            uidvalidity=check_uidvalidity(int(uidvalidity)),
            uid=check_uid(int(uid)),
        )


def require_account(account: str, refs: Iterable[MessageRef]) -> None:
    """Every ref must name ``account``, the account the call acts on: the one check that a
    call cannot reach another account's messages through its refs.

    Raises:
        InputError: a ref names another account.
    """
    for ref in refs:
        if ref.account != account:
            raise InputError(
                f"message ref {ref} not of account {account!r}",
                public="all message refs of one call must belong to the account it acts on",
            )


@attrs.frozen(kw_only=True)
class FolderInfo:
    """One folder as the server lists it. ``name`` is the decoded name to pass back."""

    name: str
    delimiter: str | None
    flags: tuple[str, ...] = ()
    #: one of ``\\Drafts \\Sent \\Trash \\Junk \\Archive \\All \\Flagged`` or None
    special_use: str | None = None
    messages: int | None = None
    unseen: int | None = None
    uidvalidity: int | None = None
    selectable: bool = True


@attrs.frozen(kw_only=True)
class SearchCriteria:
    """Structured search terms. Every field narrows the result (logical AND)."""

    from_: str | None = None
    to: str | None = None
    subject: str | None = None
    text: str | None = None
    #: dates are checked by :func:`check_search_date` (years SEARCH_YEAR_MIN..MAX)
    since: dt.date | None = attrs.field(default=None, validator=_optional_search_date)
    before: dt.date | None = attrs.field(default=None, validator=_optional_search_date)
    seen: bool | None = None
    flagged: bool | None = None
    has_attachment: bool | None = None


@attrs.frozen(kw_only=True)
class SearchPage:
    """One page of search results, newest first."""

    refs: tuple[MessageRef, ...]
    #: opaque cursor for the next page, None on the last page
    next_cursor: str | None
    #: how many messages matched in all (at the time of the first page)
    total: int


@attrs.frozen(kw_only=True)
class MessageSummary:
    """What a search result shows of one message: its headers, raw, and trusted metadata."""

    ref: MessageRef
    header_bytes: bytes = attrs.field(repr=False)
    flags: frozenset[str] = frozenset()
    size_bytes: int = 0
    internal_date: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class RawMessage:
    """One whole message as the store holds it, byte for byte."""

    ref: MessageRef
    data: bytes = attrs.field(repr=False)
    flags: frozenset[str] = frozenset()
    internal_date: dt.datetime | None = None

    @property
    def size_bytes(self) -> int:
        return len(self.data)


@attrs.frozen(kw_only=True)
class AttachmentInfo:
    """One attachment, from BODYSTRUCTURE (or a parse of the message). Names are unsanitized."""

    part_id: str
    filename: str | None
    content_type: str
    size_bytes: int
    inline: bool = False


@attrs.frozen(kw_only=True)
class PartData:
    """One MIME part, transfer-decoded (base64 / quoted-printable undone)."""

    part_id: str
    content: bytes = attrs.field(repr=False)
    content_type: str
    filename: str | None = None


@attrs.frozen(kw_only=True)
class Labels:
    """Keywords (IMAP flags that are not system flags) and, on Gmail, X-GM-LABELS."""

    keywords: tuple[str, ...] = ()
    gmail_labels: tuple[str, ...] | None = None


@attrs.frozen(kw_only=True)
class ServerInfo:
    """What ``--dry-run`` prints about a server."""

    capabilities: tuple[str, ...]
    tls_version: str | None = None
    #: SHA-256 of the leaf certificate (DER), lowercase hex without separators
    certificate_sha256: str | None = None
    #: how mailguard signed in: LOGIN, OAUTHBEARER or XOAUTH2 (None: not known)
    login_mechanism: str | None = None


@attrs.frozen(kw_only=True)
class SendResult:
    """What a :class:`~mailguard_core.ports.Sender` reports for one accepted submission."""

    message_id: str
    accepted: tuple[str, ...]
    #: recipients the server refused while accepting others
    refused: tuple[str, ...] = ()
