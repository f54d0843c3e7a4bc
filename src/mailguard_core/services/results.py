"""What the use cases return: frozen values, never wire dicts.

Every :class:`~mailguard_core.services.use_cases.MailboxService` method a tool calls returns
one of :data:`ToolResult`: the values below, or the sanitizer's own
:class:`~mailguard_core.sanitize.SafeMessage` (``fetch_message``). Stranger-written text in
them is already sanitized (the ``shown`` fields, the sanitizer's values) and each keeps the
warnings its sanitizing raised. How a result reads on the wire (the envelope an MCP client
gets as ``structuredContent`` and the library returns) is decided once, for both faces, by
:func:`mailguard_core.app.wire.envelope`; what the audit end record says of it here, by
:func:`audit_summary` (the gate records it without reading the wire form).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import attrs

from mailguard_core.model.tools import Posture, ToolName
from mailguard_core.model.values import AttachmentInfo, FolderInfo, Labels, MessageRef
from mailguard_core.ports.downloads import Saved

if TYPE_CHECKING:
    from mailguard_core.config import AccountConfig
    from mailguard_core.sanitize import AttachmentText, SafeMessage, SecurityWarning
    from mailguard_core.services.outgoing import DraftOutcome, SendOutcome


# ----------------------------------------------------------------------------- reading
@attrs.frozen(kw_only=True)
class FolderEntry:
    """One folder of a listing: the server's :class:`FolderInfo`, its name made safe to show
    (``shown``; ``info.name`` is the exact name to pass back) and whether the folder rules
    protect it."""

    info: FolderInfo
    shown: str
    protected: bool
    warnings: tuple[SecurityWarning, ...]


@attrs.frozen(kw_only=True)
class FolderList:
    account: str
    folders: tuple[FolderEntry, ...]


@attrs.frozen(kw_only=True)
class SearchHit:
    """One message of a search page: its headers, sanitized (``sanitize_headers``), and
    whether it has attachments (a top-level ``multipart/mixed``, the search rule)."""

    headers: SafeMessage
    has_attachment: bool


@attrs.frozen(kw_only=True)
class SearchResults:
    """One page of a search, newest first (``next_cursor``: None on the last page)."""

    account: str
    folder: str
    total: int
    next_cursor: str | None
    hits: tuple[SearchHit, ...]


@attrs.frozen(kw_only=True)
class MessageLabels:
    """A message's system flags (``\\Seen`` ...) and its keywords and Gmail labels, made safe
    to show (``labels``: the store's :class:`Labels`, each value sanitized)."""

    ref: MessageRef
    system_flags: tuple[str, ...]
    labels: Labels
    warnings: tuple[SecurityWarning, ...]


@attrs.frozen(kw_only=True)
class AttachmentList:
    """A message's attachments: the store's :class:`AttachmentInfo`, with each file name
    (None when it has none) and content type made safe to show."""

    ref: MessageRef
    attachments: tuple[AttachmentInfo, ...]
    warnings: tuple[SecurityWarning, ...]


@attrs.frozen(kw_only=True)
class Downloaded:
    """An attachment saved through the ``DownloadStore`` (``saved``: where, under which
    name); ``declared_type`` is the sender's content type made safe to show, ``sniffed_type``
    what the bytes are (None: not recognised)."""

    ref: MessageRef
    part_id: str
    saved: Saved
    size_bytes: int
    sha256: str
    sniffed_type: str | None
    declared_type: str
    warnings: tuple[SecurityWarning, ...]


@attrs.frozen(kw_only=True)
class AttachmentRead:
    """The sanitized text of one attachment (the sanitizer's :class:`AttachmentText`)."""

    ref: MessageRef
    part_id: str
    text: AttachmentText


# ----------------------------------------------------------------------------- changing
@attrs.frozen(kw_only=True)
class FlagsChanged:
    """A flag or keyword added to or removed from ``refs`` (``action``: the tool's name)."""

    account: str
    action: str
    refs: tuple[MessageRef, ...]


@attrs.frozen(kw_only=True)
class Moved:
    """Messages moved (to Trash for a delete): each old ref and its new one, if known."""

    account: str
    destination: str
    moved: tuple[tuple[MessageRef, MessageRef | None], ...]


@attrs.frozen(kw_only=True)
class Expunged:
    account: str
    count: int


@attrs.frozen(kw_only=True)
class FolderChanged:
    """A folder ``created``, ``renamed`` (``folder``: its new name) or ``deleted``."""

    account: str
    action: str
    folder: str


@attrs.frozen(kw_only=True)
class Drafted:
    account: str
    outcome: DraftOutcome


@attrs.frozen(kw_only=True)
class Sent:
    account: str
    outcome: SendOutcome


@attrs.frozen(kw_only=True)
class HeldForReview:
    """A send nobody could confirm, saved as a ``$PendingReview`` draft instead
    (``on_unsupported = "draft"``): not sent."""

    account: str
    outcome: DraftOutcome


# ----------------------------------------------------------------------------- accounts
@attrs.frozen(kw_only=True)
class AccountList:
    """``list_accounts``: the configured accounts and the active one."""

    active: str
    accounts: tuple[AccountConfig, ...]


@attrs.frozen(kw_only=True)
class AccountUsed:
    """``use_account``: the now active account, its configured posture and its tools."""

    active: str
    posture: Posture
    tools: frozenset[ToolName]


#: (strings: the sanitizer, a large import, is not imported until a tool reads mail)
Reading: TypeAlias = (
    "FolderList | SearchResults | MessageLabels | AttachmentList | Downloaded | AttachmentRead"
    " | SafeMessage"
)
Change: TypeAlias = FlagsChanged | Moved | Expunged | FolderChanged | Drafted | Sent | HeldForReview
Accounts: TypeAlias = AccountList | AccountUsed
#: what a tool call returns (``fetch_message``: the sanitizer's ``SafeMessage``)
ToolResult: TypeAlias = "Reading | Change | Accounts"


def safe_message(result: object) -> SafeMessage:
    """``result`` as the sanitizer's ``SafeMessage`` (the one tool result that is not one of
    the values above), else ``TypeError``: a result type nobody taught the faces is a bug,
    never shaped as if it were a message."""
    from mailguard_core.sanitize import SafeMessage

    if not isinstance(result, SafeMessage):
        raise TypeError(f"not a tool result: {type(result).__name__}")
    return result


def audit_summary(result: ToolResult) -> dict[str, Any]:
    """What the audit end record says of a result: how many warnings it carries and its
    counts (``count``, ``total``, ``expunged``, ``size_bytes``); never content."""
    warnings: tuple[SecurityWarning, ...] = ()
    counts: dict[str, int] = {}
    match result:
        case FolderList(folders=folders):
            warnings = tuple(w for f in folders for w in f.warnings)
            counts = {"count": len(folders)}
        case SearchResults(hits=hits, total=total):
            warnings = tuple(w for h in hits for w in h.headers.warnings)
            counts = {"count": len(hits), "total": total}
        case MessageLabels(warnings=found):
            warnings = found
        case AttachmentList(warnings=found, attachments=attachments):
            warnings, counts = found, {"count": len(attachments)}
        case Downloaded(warnings=found, size_bytes=size):
            warnings, counts = found, {"size_bytes": size}
        case AttachmentRead(text=text):
            warnings, counts = text.warnings, {"size_bytes": text.size_bytes}
        case FlagsChanged(refs=refs):
            counts = {"count": len(refs)}
        case Moved(moved=moved):
            counts = {"count": len(moved)}
        case Expunged(count=count):
            counts = {"expunged": count}
        case FolderChanged() | Drafted() | Sent() | HeldForReview() | AccountList() | AccountUsed():
            pass
        case _:
            message = safe_message(result)  # the one value that is not ours (fetch_message)
            warnings, counts = message.warnings, {"size_bytes": message.size_bytes}
    return {"warnings": len(warnings), **counts}
