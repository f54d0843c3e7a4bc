"""The JSON schemas of the tools: building blocks, every output shape, and the compact forms
``tools/list`` shows.

Formats come from the domain's own constants in :mod:`mailguard_core.model.values`
(``ACCOUNT_NAME_PATTERN``, ``MESSAGE_REF_PATTERN``, ``KEYWORD_PATTERN`` and the 32-bit number
and date patterns), so a schema and the parser behind it cannot drift. The tool table
(:mod:`mailguard_core.services.tooldefs`) puts them together per tool.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mailguard_core.model.values import (
    ACCOUNT_NAME_PATTERN,
    KEYWORD_MAX_CHARS,
    KEYWORD_PATTERN,
    MESSAGE_REF_PATTERN,
    SEARCH_DATE_PATTERN,
)

JsonSchema = dict[str, Any]

# ----------------------------------------------------------------- input building blocks
ACCOUNT_PATTERN = rf"^{ACCOUNT_NAME_PATTERN}$"
_NO_CONTROLS = r"^[^\u0000-\u001f\u007f]+$"

ACCOUNT: JsonSchema = {
    "type": "string",
    "pattern": ACCOUNT_PATTERN,
    "description": "Default: the active account.",
}
REF: JsonSchema = {
    "type": "string",
    "minLength": 7,
    "maxLength": 1200,
    "pattern": rf"^{MESSAGE_REF_PATTERN}$",
    "description": "A message_ref as search returns it.",
}
REFS: JsonSchema = {
    "type": "array",
    "items": {k: v for k, v in REF.items() if k != "description"},
    "minItems": 1,
    "maxItems": 100,
    "uniqueItems": True,
    "description": "1-100 message_refs of one account.",
}
FOLDER: JsonSchema = {
    "type": "string",
    "minLength": 1,
    "maxLength": 1000,
    "pattern": _NO_CONTROLS,
    "description": "exact_name from list_folders.",
}
SEARCH_TERM: JsonSchema = {"type": "string", "minLength": 1, "maxLength": 256}
DATE: JsonSchema = {
    "type": "string",
    "pattern": rf"^{SEARCH_DATE_PATTERN}$",
    "description": "YYYY-MM-DD",
}
LIMIT: JsonSchema = {
    "type": "integer",
    "minimum": 1,
    "maximum": 100,
    "default": 20,
}
CURSOR: JsonSchema = {
    "type": "string",
    "minLength": 1,
    "maxLength": 512,
    "description": "next_cursor of the previous page.",
}
MAX_BODY: JsonSchema = {
    "type": "integer",
    "minimum": 100,
    "maximum": 200_000,
    "description": "Default: the account's limit.",
}
PART_ID: JsonSchema = {
    "type": "string",
    "maxLength": 64,
    "pattern": r"^[0-9]{1,4}(\.[0-9]{1,4}){0,15}$",
    "description": "part_id from list_attachments.",
}
LABEL: JsonSchema = {
    "type": "string",
    "minLength": 1,
    "maxLength": KEYWORD_MAX_CHARS,
    "pattern": rf"^{KEYWORD_PATTERN}$",
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
SUBJECT: JsonSchema = {"type": "string", "maxLength": 998, "pattern": r"^[^\u0000-\u001f\u007f]*$"}
BODY: JsonSchema = {"type": "string", "maxLength": 1_000_000}


def addresses(min_items: int) -> JsonSchema:
    return {
        "type": "array",
        "items": dict(_RECIPIENT),
        "minItems": min_items,
        "maxItems": 50,
        "description": "Addresses: bare or Name <address>.",
    }


def obj(properties: Mapping[str, JsonSchema], required: tuple[str, ...] = ()) -> JsonSchema:
    schema: JsonSchema = {
        "type": "object",
        "properties": dict(properties),
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


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
MESSAGE_OUT: JsonSchema = {
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

PAGE_OUT = _out(
    {
        "account": _STR,
        "folder": _STR,
        "total": _INT,
        "count": _INT,
        "next_cursor": _STR_OR_NULL,
    },
    required_meta=("account", "folder", "total", "count", "next_cursor"),
    items=MESSAGE_OUT,
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
FLAGS_OUT = _out(
    {"account": _STR, "action": _STR, "count": _INT, "message_refs": _STR_LIST},
    required_meta=("account", "action", "count", "message_refs"),
)
MOVED_OUT = _out(
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
FOLDER_OP_OUT = _out(
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


# ----------------------------------------------------------------- every tool's output
FOLDERS_OUT = _out(
    {"account": _STR, "count": _INT},
    required_meta=("account", "count"),
    items=_FOLDER_ITEM,
)
ATTACHMENTS_OUT = _out(
    {"message_ref": _STR, "count": _INT},
    required_meta=("message_ref", "count"),
    untrusted={
        "type": "object",
        "properties": {"attachments": {"type": "array", "items": _ATTACHMENT_ITEM}},
        "required": ["attachments"],
    },
)
DOWNLOAD_OUT = _out(
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
)
ATTACHMENT_TEXT_OUT = _out(
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
)
LABELS_OUT = _out(
    {"message_ref": _STR, "flags": _STR_LIST},
    required_meta=("message_ref", "flags"),
    untrusted={
        "type": "object",
        "properties": {
            "keywords": _STR_LIST,
            "gmail_labels": {"type": ["array", "null"], "items": _STR},
        },
    },
)
DRAFT_OUT = _out(
    {"account": _STR, "draft_ref": _STR_OR_NULL, "message_id": _STR},
    required_meta=("account", "message_id"),
)
SEND_OUT = _out(
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
)
EXPUNGE_OUT = _out({"account": _STR, "expunged": _INT}, required_meta=("account", "expunged"))
ACCOUNTS_OUT = _out(
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
)
USE_ACCOUNT_OUT = _out(
    {"active": _STR, "posture": _STR, "tools": _STR_LIST},
    required_meta=("active", "posture", "tools"),
)
