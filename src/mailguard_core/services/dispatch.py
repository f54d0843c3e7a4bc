"""One tool call, face-independent: check the arguments, find the account, build the service
call, and summarize the result for the audit log.

Both faces use these: the MCP server (``mailguard_mcp.server``, async, in worker threads) and
the library's :class:`~mailguard_core.app.mailbox.Mailbox` (sync). Arguments are the JSON-shaped
``dict`` a tool takes over MCP, validated against the tool's full input schema
(:data:`mailguard_core.services.tooldefs.TOOL_DEFS`), so both faces accept and refuse the same calls
and the gate audits the same arguments.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from mailguard_core.config import Config
from mailguard_core.model.errors import InputError
from mailguard_core.model.tools import ToolName
from mailguard_core.model.values import MessageRef, SearchCriteria, parse_search_date
from mailguard_core.services.tooldefs import TOOL_DEFS

if TYPE_CHECKING:
    from mailguard_core.services.outgoing import OutgoingRequest
    from mailguard_core.services.use_cases import MailboxService

Result = dict[str, Any]
ServiceCall = Callable[["MailboxService"], Result]

_T = ToolName
#: tools that act on the account named inside their refs
REF_TOOLS = frozenset(
    {
        _T.FETCH_MESSAGE,
        _T.FETCH_MESSAGE_HTML,
        _T.LIST_ATTACHMENTS,
        _T.DOWNLOAD_ATTACHMENT,
        _T.READ_ATTACHMENT,
        _T.LIST_LABELS,
        _T.MARK_READ,
        _T.MARK_UNREAD,
        _T.FLAG,
        _T.UNFLAG,
        _T.ADD_LABEL,
        _T.REMOVE_LABEL,
        _T.MOVE_MESSAGE,
        _T.DELETE_MESSAGE,
        _T.EXPUNGE,
    }
)


# ---------------------------------------------------------------- argument handling
@functools.cache
def _validator(name: ToolName) -> Any:
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

    return Draft202012Validator(TOOL_DEFS[name].input_schema)


def validate_arguments(name: ToolName, arguments: Mapping[str, Any]) -> None:
    """Check the arguments against the tool's input schema.

    Raises:
        InputError: with the first problem (argument path and what is wrong).
    """
    errors = sorted(_validator(name).iter_errors(dict(arguments)), key=lambda e: list(e.path))
    if not errors:
        return
    error = errors[0]
    where = "/".join(str(p) for p in error.path) or "arguments"
    what = {
        "required": "a required argument is missing",
        "additionalProperties": "an unknown argument was given",
        "pattern": "has an invalid format",
        "type": "has the wrong type",
        "maxLength": "is too long",
        "minLength": "is too short",
        "maximum": "is too large",
        "minimum": "is too small",
        "maxItems": "has too many items",
        "minItems": "has too few items",
        "uniqueItems": "has duplicate items",
    }.get(str(error.validator), "is invalid")
    detail = error.message[:300]
    if error.validator in ("required", "additionalProperties"):
        public = f"{what}: {detail[:160]}"
    else:
        public = f"argument {where[:80]} {what}"
    raise InputError(f"{name}: {where}: {detail}", public=public)


def refs_of(arguments: Mapping[str, Any]) -> list[MessageRef]:
    """The parsed ``message_refs`` (or the one ``message_ref``) of a call.

    Raises:
        InputError: a ref is malformed.
    """
    if "message_refs" in arguments:
        return [MessageRef.parse(text) for text in arguments["message_refs"]]
    return [MessageRef.parse(arguments["message_ref"])]


def resolve_account(active: str, tool: ToolName, arguments: Mapping[str, Any]) -> str:
    """The account a call acts on: its ``account`` argument, else its refs' account, else the
    ``active`` account. All refs of one call must name one account.

    Raises:
        InputError: refs of several accounts, or a malformed ref.
    """
    explicit = arguments.get("account")
    if tool is _T.USE_ACCOUNT or tool is _T.LIST_ACCOUNTS:
        return active
    if isinstance(explicit, str):
        return explicit
    if tool in REF_TOOLS:
        accounts = {ref.account for ref in refs_of(arguments)}
        if len(accounts) > 1:
            raise InputError(
                f"refs of {sorted(accounts)} in one call",
                public="all message_refs of one call must name the same account",
            )
        return accounts.pop()
    in_reply_to = arguments.get("in_reply_to")
    if isinstance(in_reply_to, str):
        return MessageRef.parse(in_reply_to).account
    return active


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


def outgoing_request_of(a: Mapping[str, Any]) -> OutgoingRequest:
    """The message of a ``create_draft`` or ``send_email`` call."""
    from mailguard_core.services.outgoing import OutgoingRequest

    reply = a.get("in_reply_to")
    return OutgoingRequest(
        to=tuple(a["to"]),
        cc=tuple(a.get("cc", ())),
        bcc=tuple(a.get("bcc", ())),
        subject=a["subject"],
        body=a["body"],
        in_reply_to=None if reply is None else MessageRef.parse(reply),
    )


def prepare_call(tool: ToolName, a: Mapping[str, Any]) -> ServiceCall:
    """Parse the arguments into domain values now; return the service call to run later.

    Raises:
        InputError: an argument is malformed.
    """
    folder = a.get("folder", "INBOX")
    limit = int(a.get("limit", 20))
    cursor = a.get("cursor")
    if tool is _T.LIST_FOLDERS:
        return lambda s: s.list_folders()
    if tool is _T.SEARCH:
        criteria = criteria_of(a)
        return lambda s: s.search(folder, criteria, limit=limit, cursor=cursor)
    if tool is _T.SEARCH_ADVANCED:
        query = a["query"]
        return lambda s: s.search_advanced(folder, query, limit=limit, cursor=cursor)
    if tool in (_T.FETCH_MESSAGE, _T.FETCH_MESSAGE_HTML):
        [ref] = refs_of(a)
        chars = a.get("max_body_chars")
        html = tool is _T.FETCH_MESSAGE_HTML
        return lambda s: s.fetch_message(ref, max_body_chars=chars, include_html=html)
    if tool is _T.LIST_ATTACHMENTS:
        [ref] = refs_of(a)
        return lambda s: s.list_attachments(ref)
    if tool is _T.DOWNLOAD_ATTACHMENT:
        [ref] = refs_of(a)
        part_id = a["part_id"]
        return lambda s: s.download_attachment(ref, part_id)
    if tool is _T.READ_ATTACHMENT:
        [ref] = refs_of(a)
        part_id, chars = a["part_id"], a.get("max_chars")
        return lambda s: s.read_attachment(ref, part_id, max_chars=chars)
    if tool is _T.LIST_LABELS:
        [ref] = refs_of(a)
        return lambda s: s.list_labels(ref)
    if tool in (_T.MARK_READ, _T.MARK_UNREAD, _T.FLAG, _T.UNFLAG):
        refs = refs_of(a)
        action = tool.value
        return lambda s: s.set_flag(action, refs)
    if tool in (_T.ADD_LABEL, _T.REMOVE_LABEL):
        refs, label, add = refs_of(a), a["label"], tool is _T.ADD_LABEL
        return lambda s: s.set_label(refs, label, add=add)
    if tool is _T.MOVE_MESSAGE:
        refs, destination = refs_of(a), a["destination"]
        return lambda s: s.move(refs, destination)
    if tool is _T.DELETE_MESSAGE:
        refs = refs_of(a)
        return lambda s: s.delete_messages(refs)
    if tool is _T.EXPUNGE:
        refs = refs_of(a)
        return lambda s: s.expunge(refs)
    if tool is _T.CREATE_DRAFT:
        request = outgoing_request_of(a)
        return lambda s: s.create_draft(request)
    if tool is _T.SEND_EMAIL:
        request = outgoing_request_of(a)
        return lambda s: s.send_email(request)
    if tool is _T.CREATE_FOLDER:
        name = a["name"]
        return lambda s: s.create_folder(name)
    if tool is _T.RENAME_FOLDER:
        old, new = a["folder"], a["new_name"]
        return lambda s: s.rename_folder(old, new)
    if tool is _T.DELETE_FOLDER:
        return lambda s: s.delete_folder(a["folder"])
    raise AssertionError(f"no service call for {tool}")  # pragma: no cover


# ---------------------------------------------------------------- infrastructure results
def accounts_result(config: Config, active: str) -> Result:
    """The ``list_accounts`` result."""
    return {
        "meta": {
            "active": active,
            "accounts": [
                {
                    "name": a.name,
                    "address": a.address,
                    "posture": a.posture.value,
                    "active": a.name == active,
                }
                for a in config.accounts
            ],
        },
        "security_warnings": [],
    }


def use_account_result(posture: str, target: str, tools: Iterable[ToolName]) -> Result:
    """The ``use_account`` result: the now active account, its posture and tools."""
    return {
        "meta": {
            "active": target,
            "posture": posture,
            "tools": sorted(t.value for t in tools),
        },
        "security_warnings": [],
    }


# ---------------------------------------------------------------- audit
def summary(result: Mapping[str, Any]) -> dict[str, Any]:
    """A small content-free summary for the audit end record."""
    meta = result.get("meta", {})
    out: dict[str, Any] = {"warnings": len(result.get("security_warnings", []))}
    for key in ("count", "total", "expunged", "size_bytes"):
        if isinstance(meta.get(key), int):
            out[key] = meta[key]
    if "items" in result:
        out["warnings"] += sum(len(i.get("security_warnings", [])) for i in result["items"])
    return out
