"""Value objects shared by the ports, the services and the adapters.

All are frozen attrs classes with keyword-only arguments. They carry data that mailguard
produced or checked; raw message content stays ``bytes`` until the sanitizer has seen it.
"""

from __future__ import annotations

import datetime as dt
import re

import attrs

from mailguard_core.errors import InputError

_ACCOUNT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


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
    matches the folder's is stale and refused with :class:`~mailguard_core.errors.StaleReference`.
    """

    account: str
    folder: str
    uidvalidity: int = attrs.field(validator=attrs.validators.ge(0))
    uid: int = attrs.field(validator=attrs.validators.gt(0))

    def __str__(self) -> str:
        return f"{self.account}:{self.folder}:{self.uidvalidity}:{self.uid}"

    @classmethod
    def parse(cls, text: str) -> MessageRef:
        """Parse ``account:folder:uidvalidity:uid``; the folder may itself contain ``:``.

        Raises:
            InputError: the text is not a well-formed ref.
        """
        account, sep, rest = text.partition(":")
        folder, sep2, numbers = rest.rpartition(":")
        folder, sep3, uidvalidity = folder.rpartition(":")
        uid = numbers
        if not (sep and sep2 and sep3 and folder) or not (
            uidvalidity.isascii() and uidvalidity.isdigit() and uid.isascii() and uid.isdigit()
        ):
            raise InputError(
                f"malformed message ref {text!r}",
                public="message_ref must look like account:folder:uidvalidity:uid",
            )
        validate_account_name(account)
        if int(uid) <= 0:
            raise InputError(f"uid must be positive in {text!r}", public="uid must be positive")
        return cls(account=account, folder=folder, uidvalidity=int(uidvalidity), uid=int(uid))


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
    since: dt.date | None = None
    before: dt.date | None = None
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
