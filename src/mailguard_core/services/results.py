"""What the changing use cases return: frozen values, not wire dicts.

:class:`~mailguard_core.services.use_cases.MailboxService` returns these for the flag, label,
move, delete, expunge, folder and outgoing tools; :func:`envelope` shapes them for the wire
(the ``structuredContent`` an MCP client gets and the library's ``Envelope``), once, for both
faces. The reading tools still return the sanitizer's own envelopes (``SafeMessage.to_dict``
and its kin).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from mailguard_core.model.values import MessageRef

if TYPE_CHECKING:
    from mailguard_core.services.outgoing import DraftOutcome, SendOutcome

Result = dict[str, Any]


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


Change = FlagsChanged | Moved | Expunged | FolderChanged | Drafted | Sent


def _ref(ref: MessageRef | None) -> str | None:
    return None if ref is None else str(ref)


def _meta(result: Change) -> dict[str, Any]:
    match result:
        case FlagsChanged(account=account, action=action, refs=refs):
            return {
                "account": account,
                "action": action,
                "count": len(refs),
                "message_refs": [str(r) for r in refs],
            }
        case Moved(account=account, destination=destination, moved=moved):
            return {
                "account": account,
                "destination": destination,
                "count": len(moved),
                "moved": [{"from": str(old), "to": _ref(new)} for old, new in moved],
            }
        case Expunged(account=account, count=count):
            return {"account": account, "expunged": count}
        case FolderChanged(account=account, action=action, folder=folder):
            return {"account": account, "action": action, "folder": folder}
        case Drafted(account=account, outcome=made):
            return {"account": account, "draft_ref": _ref(made.ref), "message_id": made.message_id}
        case Sent(account=account, outcome=sent):
            return {
                "account": account,
                "message_id": sent.message_id,
                "accepted": list(sent.accepted),
                "refused": list(sent.refused),
                "sent_copy_stored": sent.sent_copy_stored,
                "sent_copy_ref": _ref(sent.sent_copy_ref),
                "sent_copy_error": sent.sent_copy_error,
            }
    raise AssertionError(f"no envelope for {type(result).__name__}")  # pragma: no cover


def envelope(result: Change) -> Result:
    """The wire form of a change: trusted ``meta`` only (nothing a stranger wrote)."""
    return {"meta": _meta(result), "security_warnings": []}
