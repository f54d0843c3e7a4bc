"""The wire form of a tool's result, for both faces: the one place a use case's frozen result
(:mod:`mailguard_core.services.results`) becomes the JSON envelope of ``spec/envelope.md``.

The MCP server sends it as ``structuredContent`` and renders its text for the model from it
(``mailguard_mcp.server.ok_result``); the library's :meth:`MailguardApp.call` (and so
``Mailbox``) returns it. Trusted facts go under ``meta``; everything a stranger wrote (already
sanitized in the result) under ``untrusted``; a list result carries ``items``, each an envelope
of its own; ``security_warnings`` are the warnings the sanitizing raised. The sanitizer's own
values keep their documented ``to_dict`` (``SafeMessage``, ``AttachmentText``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mailguard_core.model.values import MessageRef
from mailguard_core.services.results import (
    AccountList,
    AccountUsed,
    AttachmentList,
    AttachmentRead,
    Downloaded,
    Drafted,
    Expunged,
    FlagsChanged,
    FolderChanged,
    FolderEntry,
    FolderList,
    HeldForReview,
    MessageLabels,
    Moved,
    SearchHit,
    SearchResults,
    Sent,
    ToolResult,
    safe_message,
)

if TYPE_CHECKING:
    from mailguard_core.sanitize import SecurityWarning

WireDict = dict[str, Any]

#: the ``not_sent`` text of a send saved as a draft because nobody could be asked
NOT_SENT = (
    "not sent: this client cannot ask the user to confirm a send, so the message was saved "
    "as a $PendingReview draft for the user to review and send"
)


def _ref(ref: MessageRef | None) -> str | None:
    return None if ref is None else str(ref)


def _warnings(found: tuple[SecurityWarning, ...]) -> list[dict[str, Any]]:
    return [w.to_dict() for w in found]


def _trusted(meta: dict[str, Any]) -> WireDict:
    """An envelope of trusted facts only (nothing a stranger wrote)."""
    return {"meta": meta, "security_warnings": []}


def _folder(entry: FolderEntry) -> WireDict:
    info = entry.info
    return {
        "meta": {
            "special_use": info.special_use,
            "messages": info.messages,
            "unseen": info.unseen,
            "selectable": info.selectable,
            "protected": entry.protected,
        },
        "untrusted": {"name": entry.shown, "exact_name": info.name},
        "security_warnings": _warnings(entry.warnings),
    }


def _hit(hit: SearchHit) -> WireDict:
    out = hit.headers.to_dict()
    out["meta"]["has_attachment"] = hit.has_attachment
    return out


def _folders(result: FolderList) -> WireDict:
    return {
        "meta": {"account": result.account, "count": len(result.folders)},
        "items": [_folder(f) for f in result.folders],
        "security_warnings": [],
    }


def _search(result: SearchResults) -> WireDict:
    return {
        "meta": {
            "account": result.account,
            "folder": result.folder,
            "total": result.total,
            "count": len(result.hits),
            "next_cursor": result.next_cursor,
        },
        "items": [_hit(h) for h in result.hits],
        "security_warnings": [],
    }


def _labels(result: MessageLabels) -> WireDict:
    labels = result.labels
    gmail = None if labels.gmail_labels is None else list(labels.gmail_labels)
    return {
        "meta": {"message_ref": str(result.ref), "flags": list(result.system_flags)},
        "untrusted": {"keywords": list(labels.keywords), "gmail_labels": gmail},
        "security_warnings": _warnings(result.warnings),
    }


def _attachments(result: AttachmentList) -> WireDict:
    listed = [
        {
            "part_id": a.part_id,
            "filename": a.filename,
            "content_type": a.content_type,
            "size_bytes": a.size_bytes,
            "inline": a.inline,
        }
        for a in result.attachments
    ]
    return {
        "meta": {"message_ref": str(result.ref), "count": len(listed)},
        "untrusted": {"attachments": listed},
        "security_warnings": _warnings(result.warnings),
    }


def _downloaded(result: Downloaded) -> WireDict:
    return {
        "meta": {
            "message_ref": str(result.ref),
            "part_id": result.part_id,
            "path": result.saved.location,
            "size_bytes": result.size_bytes,
            "sha256": result.sha256,
            "sniffed_type": result.sniffed_type,
        },
        "untrusted": {"filename": result.saved.name, "declared_type": result.declared_type},
        "security_warnings": _warnings(result.warnings),
    }


def _read(result: AttachmentRead) -> WireDict:
    out = result.text.to_dict()
    out["meta"] = {"message_ref": str(result.ref), "part_id": result.part_id, **out["meta"]}
    return out


def _sent(result: Sent) -> WireDict:
    sent = result.outcome
    return _trusted(
        {
            "account": result.account,
            "message_id": sent.message_id,
            "accepted": list(sent.accepted),
            "refused": list(sent.refused),
            "sent_copy_stored": sent.sent_copy_stored,
            "sent_copy_ref": _ref(sent.sent_copy_ref),
            "sent_copy_error": sent.sent_copy_error,
        }
    )


def _held(result: HeldForReview) -> WireDict:
    return _trusted(
        {
            "account": result.account,
            "message_id": result.outcome.message_id,
            "accepted": [],
            "refused": [],
            "sent_copy_stored": False,
            "not_sent": NOT_SENT,
            "draft_ref": _ref(result.outcome.ref),
        }
    )


def _accounts(result: AccountList) -> WireDict:
    listed = [
        {
            "name": a.name,
            "address": a.address,
            "posture": a.posture.value,
            "active": a.name == result.active,
        }
        for a in result.accounts
    ]
    return _trusted({"active": result.active, "accounts": listed})


def envelope(result: ToolResult) -> WireDict:
    """The wire form of a tool's result (a fresh ``dict`` each call, JSON-ready)."""
    match result:
        case FolderList():
            return _folders(result)
        case SearchResults():
            return _search(result)
        case MessageLabels():
            return _labels(result)
        case AttachmentList():
            return _attachments(result)
        case Downloaded():
            return _downloaded(result)
        case AttachmentRead():
            return _read(result)
        case FlagsChanged(account=account, action=action, refs=refs):
            return _trusted(
                {
                    "account": account,
                    "action": action,
                    "count": len(refs),
                    "message_refs": [str(r) for r in refs],
                }
            )
        case Moved(account=account, destination=destination, moved=moved):
            return _trusted(
                {
                    "account": account,
                    "destination": destination,
                    "count": len(moved),
                    "moved": [{"from": str(old), "to": _ref(new)} for old, new in moved],
                }
            )
        case Expunged(account=account, count=count):
            return _trusted({"account": account, "expunged": count})
        case FolderChanged(account=account, action=action, folder=folder):
            return _trusted({"account": account, "action": action, "folder": folder})
        case Drafted(account=account, outcome=made):
            return _trusted(
                {"account": account, "draft_ref": _ref(made.ref), "message_id": made.message_id}
            )
        case Sent():
            return _sent(result)
        case HeldForReview():
            return _held(result)
        case AccountList():
            return _accounts(result)
        case AccountUsed(active=active, posture=posture, tools=tools):
            tool_names = sorted(t.value for t in tools)
            return _trusted({"active": active, "posture": posture.value, "tools": tool_names})
        case _:
            return safe_message(result).to_dict()  # fetch_message: the sanitizer's own value
