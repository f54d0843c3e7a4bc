"""The service calls the tool table binds (:mod:`mailguard_core.services.tooldefs`): each reads what
is left of the arguments now (search criteria, the outgoing message), so a malformed value is
refused before the gate admits the call, and returns the use case call to run once it has.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mailguard_core.gate.request import ToolRequest
from mailguard_core.model.errors import InputError
from mailguard_core.model.values import MessageRef, SearchCriteria, parse_search_date
from mailguard_core.services.toolspec import Prepare, ServiceCall

if TYPE_CHECKING:
    from mailguard_core.services.outgoing import OutgoingRequest

MAX_REFS = 100


def read_ref(key: str, value: Any) -> MessageRef:
    if not isinstance(value, str):
        raise InputError(f"{key} must be a string", public=f"{key} must be a message ref")
    return MessageRef.parse(value)


def read_refs(key: str, value: Any) -> tuple[MessageRef, ...]:
    if not isinstance(value, list | tuple) or not value or len(value) > MAX_REFS:
        raise InputError(
            f"{key} must be a list of 1..{MAX_REFS} refs",
            public=f"{key} must be a list of 1 to {MAX_REFS} message refs",
        )
    if not all(isinstance(item, str) for item in value):
        raise InputError(f"{key} must be strings", public=f"{key} must be strings")
    return tuple(MessageRef.parse(item) for item in value)


def refs_of(arguments: Mapping[str, Any]) -> list[MessageRef]:
    """The parsed ``message_refs`` (or the one ``message_ref``) of a call.

    Raises:
        InputError: a ref is malformed.
    """
    if "message_refs" in arguments:
        return list(read_refs("message_refs", arguments["message_refs"]))
    return [read_ref("message_ref", arguments["message_ref"])]


def _date(text: str | None, what: str) -> dt.date | None:
    return None if text is None else parse_search_date(text, what)


def criteria_of(a: Mapping[str, Any]) -> SearchCriteria:
    """The search criteria of a ``search`` call.

    Raises:
        InputError: a malformed date, or since not earlier than before.
    """
    since, before = _date(a.get("since"), "since"), _date(a.get("before"), "before")
    if since and before and since >= before:
        raise InputError("since >= before", public="since must be earlier than before")
    return SearchCriteria(
        from_=a.get("from"),
        to=a.get("to"),
        subject=a.get("subject"),
        text=a.get("text"),
        since=since,
        before=before,
        seen=a.get("seen"),
        flagged=a.get("flagged"),
        has_attachment=a.get("has_attachment"),
    )


def outgoing_request_of(
    a: Mapping[str, Any], reply_to: MessageRef | None = None
) -> OutgoingRequest:
    """The message of a ``create_draft`` or ``send_email`` call (``reply_to``: the parsed
    ``in_reply_to``, parsed here when not given)."""
    from mailguard_core.services.outgoing import OutgoingRequest

    if reply_to is None and a.get("in_reply_to") is not None:
        reply_to = read_ref("in_reply_to", a["in_reply_to"])
    return OutgoingRequest(
        to=tuple(a["to"]),
        cc=tuple(a.get("cc", ())),
        bcc=tuple(a.get("bcc", ())),
        subject=a["subject"],
        body=a["body"],
        in_reply_to=reply_to,
    )


# ---------------------------------------------------------------- the calls
def search(r: ToolRequest, a: Mapping[str, Any]) -> ServiceCall:
    folder, limit, cursor = a.get("folder", "INBOX"), int(a.get("limit", 20)), a.get("cursor")
    criteria = criteria_of(a)
    return lambda svc: svc.search(folder, criteria, limit=limit, cursor=cursor)


def search_advanced(r: ToolRequest, a: Mapping[str, Any]) -> ServiceCall:
    folder, limit, cursor = a.get("folder", "INBOX"), int(a.get("limit", 20)), a.get("cursor")
    query = a["query"]
    return lambda svc: svc.search_advanced(folder, query, limit=limit, cursor=cursor)


def fetch(html: bool) -> Prepare:
    def prepare(r: ToolRequest, a: Mapping[str, Any]) -> ServiceCall:
        ref, chars = r.refs[0], a.get("max_body_chars")
        return lambda svc: svc.fetch_message(ref, max_body_chars=chars, include_html=html)

    return prepare


def read_attachment(r: ToolRequest, a: Mapping[str, Any]) -> ServiceCall:
    ref, part_id, chars = r.refs[0], a["part_id"], a.get("max_chars")
    return lambda svc: svc.read_attachment(ref, part_id, max_chars=chars)


def store_flag(flag: str, add: bool) -> Prepare:
    def prepare(r: ToolRequest, a: Mapping[str, Any]) -> ServiceCall:
        assert r.tool is not None
        action, refs = r.tool.value, r.refs
        return lambda svc: svc.store_flag(action, refs, flag, add=add)

    return prepare


def set_label(add: bool) -> Prepare:
    def prepare(r: ToolRequest, a: Mapping[str, Any]) -> ServiceCall:
        refs, label = r.refs, a["label"]
        return lambda svc: svc.set_label(refs, label, add=add)

    return prepare


def outgoing(send: bool) -> Prepare:
    def prepare(r: ToolRequest, a: Mapping[str, Any]) -> ServiceCall:
        request = outgoing_request_of(a, r.reply_to)
        if send:
            return lambda svc: svc.send_email(request)
        return lambda svc: svc.create_draft(request)

    return prepare


def _named(value: str | None) -> str:
    assert value is not None, "the schema requires it"
    return value


def list_folders(r: ToolRequest, a: Mapping[str, Any]) -> ServiceCall:
    return lambda svc: svc.list_folders()


def list_attachments(r: ToolRequest, a: Mapping[str, Any]) -> ServiceCall:
    ref = r.refs[0]
    return lambda svc: svc.list_attachments(ref)


def download_attachment(r: ToolRequest, a: Mapping[str, Any]) -> ServiceCall:
    ref, part_id = r.refs[0], a["part_id"]
    return lambda svc: svc.download_attachment(ref, part_id)


def list_labels(r: ToolRequest, a: Mapping[str, Any]) -> ServiceCall:
    ref = r.refs[0]
    return lambda svc: svc.list_labels(ref)


def move(r: ToolRequest, a: Mapping[str, Any]) -> ServiceCall:
    refs, destination = r.refs, _named(r.destination)
    return lambda svc: svc.move(refs, destination)


def delete_messages(r: ToolRequest, a: Mapping[str, Any]) -> ServiceCall:
    refs = r.refs
    return lambda svc: svc.delete_messages(refs)


def expunge(r: ToolRequest, a: Mapping[str, Any]) -> ServiceCall:
    refs = r.refs
    return lambda svc: svc.expunge(refs)


def create_folder(r: ToolRequest, a: Mapping[str, Any]) -> ServiceCall:
    name = _named(r.new_folder)
    return lambda svc: svc.create_folder(name)


def rename_folder(r: ToolRequest, a: Mapping[str, Any]) -> ServiceCall:
    old, new = _named(r.folder), _named(r.new_folder)
    return lambda svc: svc.rename_folder(old, new)


def delete_folder(r: ToolRequest, a: Mapping[str, Any]) -> ServiceCall:
    folder = _named(r.folder)
    return lambda svc: svc.delete_folder(folder)
