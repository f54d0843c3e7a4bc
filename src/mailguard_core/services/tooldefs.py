"""Every tool as a client sees it: description, input and output JSON schemas, annotations.

Plain data (dicts) so that ``tools/list`` costs nothing to build and the schemas can be checked
by tests without a server. The names are exactly :class:`mailguard_core.model.tools.ToolName`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from mailguard_core.model.tools import ToolName
from mailguard_core.model.values import SEARCH_DATE_PATTERN, UID_PATTERN, UIDVALIDITY_PATTERN

JsonSchema = dict[str, Any]

# ----------------------------------------------------------------- input building blocks
ACCOUNT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_NO_CONTROLS = r"^[^\u0000-\u001f\u007f]+$"

_ACCOUNT: JsonSchema = {
    "type": "string",
    "pattern": ACCOUNT_PATTERN,
    "description": "Default: the active account.",
}
_REF: JsonSchema = {
    "type": "string",
    "minLength": 7,
    "maxLength": 1200,
    # the numbers' ranges are the domain's (MessageRef.parse): 32-bit, no leading zeros
    "pattern": rf"^[A-Za-z0-9][A-Za-z0-9_.-]{{0,63}}:.+:{UIDVALIDITY_PATTERN}:{UID_PATTERN}$",
    "description": "A message_ref as search returns it.",
}
_REFS: JsonSchema = {
    "type": "array",
    "items": {k: v for k, v in _REF.items() if k != "description"},
    "minItems": 1,
    "maxItems": 100,
    "uniqueItems": True,
    "description": "1-100 message_refs of one account.",
}
_FOLDER: JsonSchema = {
    "type": "string",
    "minLength": 1,
    "maxLength": 1000,
    "pattern": _NO_CONTROLS,
    "description": "exact_name from list_folders.",
}
_SEARCH_TERM: JsonSchema = {"type": "string", "minLength": 1, "maxLength": 256}
_DATE: JsonSchema = {
    "type": "string",
    "pattern": rf"^{SEARCH_DATE_PATTERN}$",
    "description": "YYYY-MM-DD",
}
_LIMIT: JsonSchema = {
    "type": "integer",
    "minimum": 1,
    "maximum": 100,
    "default": 20,
}
_CURSOR: JsonSchema = {
    "type": "string",
    "minLength": 1,
    "maxLength": 512,
    "description": "next_cursor of the previous page.",
}
_MAX_BODY: JsonSchema = {
    "type": "integer",
    "minimum": 100,
    "maximum": 200_000,
    "description": "Default: the account's limit.",
}
_PART_ID: JsonSchema = {
    "type": "string",
    "maxLength": 64,
    "pattern": r"^[0-9]{1,4}(\.[0-9]{1,4}){0,15}$",
    "description": "part_id from list_attachments.",
}
_LABEL: JsonSchema = {
    "type": "string",
    "minLength": 1,
    "maxLength": 128,
    "pattern": r'^[^\\\s(){}%*"\]\u0000-\u001f\u007f][^\s(){}%*"\]\u0000-\u001f\u007f]*$',
    "description": "A keyword, not a system flag.",
}
_BARE = r"[^\s<>(),;:\"\[\]\\]+@[^\s<>(),;:\"\[\]\\@]+"
#: a recipient: a bare address or ``Name <address>`` (the name optionally double-quoted);
#: compose.parse_mailbox checks it fully (one address, the name cleaned and encoded)
_RECIPIENT: JsonSchema = {
    "type": "string",
    "minLength": 3,
    "maxLength": 480,
    "pattern": f"^(?:{_BARE}|[^<>\\u0000-\\u001f\\u007f]{{0,210}}<{_BARE}>)$",
}


def _addresses(min_items: int) -> JsonSchema:
    return {
        "type": "array",
        "items": dict(_RECIPIENT),
        "minItems": min_items,
        "maxItems": 50,
        "description": "Addresses: bare or Name <address>.",
    }


def _obj(properties: Mapping[str, JsonSchema], required: tuple[str, ...] = ()) -> JsonSchema:
    schema: JsonSchema = {
        "type": "object",
        "properties": dict(properties),
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


_COMPOSE: dict[str, JsonSchema] = {
    "account": _ACCOUNT,
    "to": _addresses(1),
    "cc": _addresses(0),
    "bcc": _addresses(0),
    "subject": {"type": "string", "maxLength": 998, "pattern": r"^[^\u0000-\u001f\u007f]*$"},
    "body": {"type": "string", "maxLength": 1_000_000},
    "in_reply_to": {**_REF, "description": "message_ref of the message this replies to."},
}

# ----------------------------------------------------------------- output building blocks
_WARNING: JsonSchema = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "severity": {"enum": ["adversarial", "informational"]},
        "location": {"type": ["string", "null"]},
        "detail": {"type": ["object", "null"]},
    },
    "required": ["code", "severity"],
}
_WARNINGS: JsonSchema = {"type": "array", "items": _WARNING}
_ENVELOPE: JsonSchema = {
    "type": "object",
    "properties": {
        "meta": {
            "type": "object",
            "properties": {
                "schema": {"type": "string"},
                "message_ref": {"type": ["string", "null"]},
            },
        },
        "untrusted": {"type": "object"},
        "security_warnings": _WARNINGS,
    },
    "required": ["meta", "untrusted", "security_warnings"],
}


def _out(
    meta: Mapping[str, JsonSchema],
    *,
    required_meta: tuple[str, ...] = (),
    untrusted: JsonSchema | None = None,
    items: JsonSchema | None = None,
) -> JsonSchema:
    """An object schema: trusted ``meta``, optional ``untrusted``/``items``, warnings."""
    meta_schema: JsonSchema = {"type": "object", "properties": dict(meta)}
    if required_meta:
        meta_schema["required"] = list(required_meta)
    props: dict[str, JsonSchema] = {"meta": meta_schema, "security_warnings": _WARNINGS}
    required = ["meta", "security_warnings"]
    if untrusted is not None:
        props["untrusted"] = untrusted
        required.append("untrusted")
    if items is not None:
        props["items"] = {"type": "array", "items": items}
        required.append("items")
    return {"type": "object", "properties": props, "required": required}


_STR = {"type": "string"}
_STR_OR_NULL = {"type": ["string", "null"]}
_INT = {"type": "integer"}
_INT_OR_NULL = {"type": ["integer", "null"]}
_BOOL = {"type": "boolean"}
_STR_LIST = {"type": "array", "items": _STR}

_PAGE_OUT = _out(
    {
        "account": _STR,
        "folder": _STR,
        "total": _INT,
        "count": _INT,
        "next_cursor": _STR_OR_NULL,
    },
    required_meta=("account", "folder", "total", "count", "next_cursor"),
    items=_ENVELOPE,
)
_FOLDER_ITEM: JsonSchema = {
    "type": "object",
    "properties": {
        "meta": {
            "type": "object",
            "properties": {
                "special_use": _STR_OR_NULL,
                "messages": _INT_OR_NULL,
                "unseen": _INT_OR_NULL,
                "selectable": _BOOL,
                "protected": _BOOL,
            },
        },
        "untrusted": {
            "type": "object",
            "properties": {"name": _STR, "exact_name": _STR},
            "required": ["name", "exact_name"],
        },
        "security_warnings": _WARNINGS,
    },
    "required": ["meta", "untrusted", "security_warnings"],
}
_FLAGS_OUT = _out(
    {"account": _STR, "action": _STR, "count": _INT, "message_refs": _STR_LIST},
    required_meta=("account", "action", "count", "message_refs"),
)
_MOVED_OUT = _out(
    {
        "account": _STR,
        "destination": _STR,
        "count": _INT,
        "moved": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"from": _STR, "to": _STR_OR_NULL},
                "required": ["from", "to"],
            },
        },
    },
    required_meta=("account", "destination", "count", "moved"),
)
_FOLDER_OP_OUT = _out(
    {"account": _STR, "action": _STR, "folder": _STR},
    required_meta=("account", "action", "folder"),
)
_ATTACHMENT_ITEM: JsonSchema = {
    "type": "object",
    "properties": {
        "part_id": _STR,
        "filename": _STR_OR_NULL,
        "content_type": _STR,
        "size_bytes": _INT,
        "inline": _BOOL,
    },
    "required": ["part_id", "content_type", "size_bytes"],
}


_ERROR: JsonSchema = {
    "type": "object",
    "properties": {"code": _STR, "message": _STR, "retry_after": {"type": "number"}},
    "required": ["code", "message"],
}


def with_error(schema: JsonSchema) -> JsonSchema:
    """The result schema, or the ``{"error": {code, message}}`` of a refused or failed call.

    Some clients (the TypeScript SDK) check ``structuredContent`` against the output schema
    even when ``isError`` is set, so the error shape is part of every output schema.
    """
    props = {**schema.get("properties", {}), "error": _ERROR}
    out: JsonSchema = {key: value for key, value in schema.items() if key != "required"}
    out["properties"] = props
    out["anyOf"] = [{"required": list(schema.get("required", []))}, {"required": ["error"]}]
    return out


# ----------------------------------------------------------------- what tools/list shows
#: keywords the server enforces but a model needs not read: the bounds and formats are
#: checked against the full ``input_schema`` and refused with a clear error naming the
#: argument, so the listed schema leaves them out (issue 14: every character of
#: ``tools/list`` is in every request's context)
_UNLISTED_KEYWORDS = frozenset(
    {"pattern", "minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "minimum"}
)


def listed_input_schema(schema: JsonSchema) -> JsonSchema:
    """The input schema as ``tools/list`` shows it: the full one without the keywords of
    :data:`_UNLISTED_KEYWORDS` (types, required, enums, defaults, maxima and descriptions kept).
    """
    out: JsonSchema = {}
    for key, value in schema.items():
        if key in _UNLISTED_KEYWORDS:
            continue
        if key == "properties":
            out[key] = {name: listed_input_schema(sub) for name, sub in value.items()}
        elif key == "items" and isinstance(value, dict):
            out[key] = listed_input_schema(value)
        else:
            out[key] = value
    return out


def listed_output_schema(schema: JsonSchema) -> JsonSchema:
    """The output schema as ``tools/list`` shows it: the top-level keys and their types.

    A model never reads structured output against a schema, and a client checks only that
    ``structuredContent`` conforms: the top level (``meta``, ``untrusted``, ``items``,
    ``security_warnings``, ``error``, each with its type) says what a program gets; the full
    schema (``ToolDef.output_schema``) is what the tests hold every result to, and the
    envelope is documented in docs/clients.md and docs/sanitizer.md.
    """
    props = {
        name: {"type": sub["type"]} if "type" in sub else {}
        for name, sub in schema.get("properties", {}).items()
    }
    return {"type": "object", "properties": props}


# ----------------------------------------------------------------- the table
@attrs.frozen(kw_only=True)
class ToolDef:
    """What ``tools/list`` says about one tool (the output schema gains the error shape).

    ``input_schema`` and ``output_schema`` are the full schemas: arguments are validated
    against the first and results are tested against the second. ``tools/list`` shows their
    compact forms (:func:`listed_input_schema`, :func:`listed_output_schema`).
    """

    name: ToolName
    title: str
    description: str
    input_schema: JsonSchema
    output_schema: JsonSchema = attrs.field(converter=with_error)
    read_only: bool
    destructive: bool = False
    idempotent: bool = True
    open_world: bool = False


_T = ToolName
_READ = {"read_only": True}
_RECIPIENTS_NOTE = " From is the account's own address."

TOOL_DEFS: dict[ToolName, ToolDef] = {
    d.name: d
    for d in (
        ToolDef(
            name=_T.LIST_FOLDERS,
            title="List folders",
            description=(
                "The account's folders with special-use flags and counts. Pass a folder back "
                "by its exact_name."
            ),
            input_schema=_obj({"account": _ACCOUNT}),
            output_schema=_out(
                {"account": _STR, "count": _INT},
                required_meta=("account", "count"),
                items=_FOLDER_ITEM,
            ),
            **_READ,
        ),
        ToolDef(
            name=_T.SEARCH,
            title="Search messages",
            description=(
                "Search one folder, newest first; all given terms must match. Pass next_cursor "
                "for the next page."
            ),
            input_schema=_obj(
                {
                    "account": _ACCOUNT,
                    "folder": {**_FOLDER, "default": "INBOX"},
                    "from": _SEARCH_TERM,
                    "to": _SEARCH_TERM,
                    "subject": _SEARCH_TERM,
                    "text": _SEARCH_TERM,
                    "since": _DATE,
                    "before": _DATE,
                    "seen": _BOOL,
                    "flagged": _BOOL,
                    "has_attachment": _BOOL,
                    "limit": _LIMIT,
                    "cursor": _CURSOR,
                }
            ),
            output_schema=_PAGE_OUT,
            **_READ,
        ),
        ToolDef(
            name=_T.SEARCH_ADVANCED,
            title="Search with IMAP",
            description=(
                "Search one folder with an IMAP SEARCH expression, e.g. "
                '`OR FROM "ann" SUBJECT "report" UNSEEN`. No line breaks or literals.'
            ),
            input_schema=_obj(
                {
                    "account": _ACCOUNT,
                    "folder": {**_FOLDER, "default": "INBOX"},
                    "query": {"type": "string", "minLength": 1, "maxLength": 1000},
                    "limit": _LIMIT,
                    "cursor": _CURSOR,
                },
                ("query",),
            ),
            output_schema=_PAGE_OUT,
            **_READ,
        ),
        ToolDef(
            name=_T.FETCH_MESSAGE,
            title="Read a message",
            description=(
                "One message: sanitized headers and body text, with security warnings. Does not "
                "mark it read."
            ),
            input_schema=_obj({"message_ref": _REF, "max_body_chars": _MAX_BODY}, ("message_ref",)),
            output_schema=_ENVELOPE,
            **_READ,
        ),
        ToolDef(
            name=_T.FETCH_MESSAGE_HTML,
            title="Read a message with its HTML",
            description=(
                "As fetch_message, plus the sanitized HTML (no scripts, forms or remote images)."
            ),
            input_schema=_obj({"message_ref": _REF, "max_body_chars": _MAX_BODY}, ("message_ref",)),
            output_schema=_ENVELOPE,
            **_READ,
        ),
        ToolDef(
            name=_T.LIST_ATTACHMENTS,
            title="List attachments",
            description=(
                "The attachments of one message: part_id, sanitized file name, declared type, size."
            ),
            input_schema=_obj({"message_ref": _REF}, ("message_ref",)),
            output_schema=_out(
                {"message_ref": _STR, "count": _INT},
                required_meta=("message_ref", "count"),
                untrusted={
                    "type": "object",
                    "properties": {"attachments": {"type": "array", "items": _ATTACHMENT_ITEM}},
                    "required": ["attachments"],
                },
            ),
            **_READ,
        ),
        ToolDef(
            name=_T.DOWNLOAD_ATTACHMENT,
            title="Save an attachment",
            description=(
                "Save one attachment into the account's download directory; returns its path, "
                "SHA-256 and declared and detected types. The file is not opened."
            ),
            input_schema=_obj(
                {
                    "message_ref": _REF,
                    "part_id": _PART_ID,
                },
                ("message_ref", "part_id"),
            ),
            output_schema=_out(
                {
                    "message_ref": _STR,
                    "part_id": _STR,
                    "path": _STR,
                    "size_bytes": _INT,
                    "sha256": _STR,
                    "sniffed_type": _STR_OR_NULL,
                },
                required_meta=("message_ref", "part_id", "path", "size_bytes", "sha256"),
                untrusted={
                    "type": "object",
                    "properties": {"filename": _STR_OR_NULL, "declared_type": _STR},
                },
            ),
            read_only=False,
            idempotent=False,
        ),
        ToolDef(
            name=_T.READ_ATTACHMENT,
            title="Read an attachment",
            description=(
                "The text of one attachment (PDF, .docx, HTML, text, .ics, attached mail); text "
                "the document hides from its reader is removed and warned about."
            ),
            input_schema=_obj(
                {
                    "message_ref": _REF,
                    "part_id": _PART_ID,
                    "max_chars": {
                        **_MAX_BODY,
                        "description": "Cut the text here (default: the account's body limit).",
                    },
                },
                ("message_ref", "part_id"),
            ),
            output_schema=_out(
                {
                    "message_ref": _STR,
                    "part_id": _STR,
                    "schema": _STR,
                    "declared_type": _STR,
                    "detected_type": _STR,
                    "size_bytes": _INT,
                    "pages": _INT_OR_NULL,
                    "chars": _INT,
                    "truncated": _BOOL,
                    "extractor": _STR,
                },
                required_meta=("message_ref", "part_id", "detected_type", "chars", "truncated"),
                untrusted={
                    "type": "object",
                    "properties": {
                        "filename": _STR_OR_NULL,
                        "text": _STR,
                        "message": {"type": "object"},
                    },
                    "required": ["text"],
                },
            ),
            **_READ,
        ),
        ToolDef(
            name=_T.LIST_LABELS,
            title="List labels",
            description="The flags, keywords and (on Gmail) labels of one message.",
            input_schema=_obj({"message_ref": _REF}, ("message_ref",)),
            output_schema=_out(
                {"message_ref": _STR, "flags": _STR_LIST},
                required_meta=("message_ref", "flags"),
                untrusted={
                    "type": "object",
                    "properties": {
                        "keywords": _STR_LIST,
                        "gmail_labels": {"type": ["array", "null"], "items": _STR},
                    },
                },
            ),
            **_READ,
        ),
        *(
            ToolDef(
                name=name,
                title=title,
                description=f"{title} (sets or clears {flag}) on 1 to 100 messages.",
                input_schema=_obj({"message_refs": _REFS}, ("message_refs",)),
                output_schema=_FLAGS_OUT,
                read_only=False,
            )
            for name, title, flag in (
                (_T.MARK_READ, "Mark read", "\\Seen"),
                (_T.MARK_UNREAD, "Mark unread", "\\Seen"),
                (_T.FLAG, "Flag", "\\Flagged"),
                (_T.UNFLAG, "Unflag", "\\Flagged"),
            )
        ),
        ToolDef(
            name=_T.ADD_LABEL,
            title="Add a label",
            description="Add a keyword to 1-100 messages. System flags and $PendingReview refused.",
            input_schema=_obj({"message_refs": _REFS, "label": _LABEL}, ("message_refs", "label")),
            output_schema=_FLAGS_OUT,
            read_only=False,
        ),
        ToolDef(
            name=_T.REMOVE_LABEL,
            title="Remove a label",
            description="Remove a keyword from 1-100 messages. $PendingReview refused.",
            input_schema=_obj({"message_refs": _REFS, "label": _LABEL}, ("message_refs", "label")),
            output_schema=_FLAGS_OUT,
            read_only=False,
        ),
        ToolDef(
            name=_T.MOVE_MESSAGE,
            title="Move messages",
            description=(
                "Move 1-100 messages to another folder; returns their new message_refs. Not "
                "into Drafts, Sent or an expunge-allowlisted folder."
            ),
            input_schema=_obj(
                {"message_refs": _REFS, "destination": _FOLDER}, ("message_refs", "destination")
            ),
            output_schema=_MOVED_OUT,
            read_only=False,
        ),
        ToolDef(
            name=_T.CREATE_DRAFT,
            title="Create a draft",
            description=(
                "Write a plain-text draft into Drafts (flagged $PendingReview) for a human to "
                "review and send. Nothing is sent." + _RECIPIENTS_NOTE
            ),
            input_schema=_obj(_COMPOSE, ("to", "subject", "body")),
            output_schema=_out(
                {"account": _STR, "draft_ref": _STR_OR_NULL, "message_id": _STR},
                required_meta=("account", "message_id"),
            ),
            read_only=False,
            idempotent=False,
        ),
        ToolDef(
            name=_T.SEND_EMAIL,
            title="Send an email",
            description=(
                "Send a plain-text message over SMTP now, then store a copy in Sent. Irreversible."
                + _RECIPIENTS_NOTE
            ),
            input_schema=_obj(_COMPOSE, ("to", "subject", "body")),
            output_schema=_out(
                {
                    "account": _STR,
                    "message_id": _STR,
                    "accepted": _STR_LIST,
                    "refused": _STR_LIST,
                    "sent_copy_stored": _BOOL,
                    "sent_copy_ref": _STR_OR_NULL,
                    "sent_copy_error": _STR_OR_NULL,
                    # a client that cannot ask its user to confirm (on_unsupported = "draft")
                    "not_sent": _STR,
                    "draft_ref": _STR_OR_NULL,
                },
                required_meta=("account", "message_id", "accepted", "refused", "sent_copy_stored"),
            ),
            read_only=False,
            destructive=True,
            idempotent=False,
            open_world=True,
        ),
        ToolDef(
            name=_T.DELETE_MESSAGE,
            title="Delete messages",
            description="Move 1 to 100 messages to Trash (recoverable; nothing is expunged).",
            input_schema=_obj({"message_refs": _REFS}, ("message_refs",)),
            output_schema=_MOVED_OUT,
            read_only=False,
            destructive=True,
        ),
        ToolDef(
            name=_T.CREATE_FOLDER,
            title="Create a folder",
            description="Create a folder. Names that shadow protected folders are refused.",
            input_schema=_obj({"account": _ACCOUNT, "name": _FOLDER}, ("name",)),
            output_schema=_FOLDER_OP_OUT,
            read_only=False,
        ),
        ToolDef(
            name=_T.RENAME_FOLDER,
            title="Rename a folder",
            description=(
                "Rename a folder. Protected folders (INBOX, special-use) cannot be renamed."
            ),
            input_schema=_obj(
                {"account": _ACCOUNT, "folder": _FOLDER, "new_name": _FOLDER},
                ("folder", "new_name"),
            ),
            output_schema=_FOLDER_OP_OUT,
            read_only=False,
        ),
        ToolDef(
            name=_T.EXPUNGE,
            title="Permanently remove messages",
            description=(
                "Permanently remove 1 to 100 messages. Only in folders on the account's expunge "
                "allowlist. Irreversible."
            ),
            input_schema=_obj({"message_refs": _REFS}, ("message_refs",)),
            output_schema=_out(
                {"account": _STR, "expunged": _INT}, required_meta=("account", "expunged")
            ),
            read_only=False,
            destructive=True,
        ),
        ToolDef(
            name=_T.DELETE_FOLDER,
            title="Delete a folder",
            description=(
                "Permanently delete a folder and its messages. Only folders on the allowlist, "
                "never a protected one. Irreversible."
            ),
            input_schema=_obj({"account": _ACCOUNT, "folder": _FOLDER}, ("folder",)),
            output_schema=_FOLDER_OP_OUT,
            read_only=False,
            destructive=True,
        ),
        ToolDef(
            name=_T.LIST_ACCOUNTS,
            title="List accounts",
            description=(
                "The configured accounts, their addresses and postures, and the active one."
            ),
            input_schema=_obj({}),
            output_schema=_out(
                {
                    "active": _STR,
                    "accounts": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "name": _STR,
                                "address": _STR,
                                "posture": _STR,
                                "active": _BOOL,
                            },
                            "required": ["name", "address", "posture", "active"],
                        },
                    },
                },
                required_meta=("active", "accounts"),
            ),
            **_READ,
        ),
        ToolDef(
            name=_T.USE_ACCOUNT,
            title="Switch account",
            description=(
                "Make another account the session's active one; the tool list then shows what "
                "that account's posture allows."
            ),
            input_schema=_obj(
                {"account": {**_ACCOUNT, "description": "Account name."}}, ("account",)
            ),
            output_schema=_out(
                {"active": _STR, "posture": _STR, "tools": _STR_LIST},
                required_meta=("active", "posture", "tools"),
            ),
            **_READ,
        ),
    )
}

assert set(TOOL_DEFS) == set(ToolName), "every tool needs a definition"
