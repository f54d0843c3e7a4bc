"""The tool table: one :class:`ToolSpec` per tool, the only place a tool is described.

A spec says everything about one tool: what a client is told (title, description, the input
and output JSON schemas, the annotations), each argument with its schema, how the audit log
keeps it and what it means to the gate (a message ref, a folder the call renames or deletes,
a new folder name, a move's destination, a label), and the use case it calls. Everything
else is derived from it: the input schema, the typed
:class:`~mailguard_core.gate.request.ToolRequest` the gate and the audit see
(:func:`~mailguard_core.services.dispatch.describe`), which tools act on the account of
their refs, the service call (the calls are in :mod:`~mailguard_core.services.toolcalls`).
The posture matrix stays in :mod:`mailguard_core.model.tools` (policy, not description);
``tests/unit/test_tool_table.py`` checks the two agree.

Both faces read this table: the MCP server (``tools/list``, ``tools/call``) and the library
(:class:`~mailguard_core.app.mailbox.Mailbox`, ``TOOL_DEFS`` in the public API), so a tool is
added here once and served the same way by both (``docs/architecture.md``).
"""

from __future__ import annotations

from mailguard_core.gate.request import Redaction
from mailguard_core.model.tools import ToolName
from mailguard_core.services import schemas as s
from mailguard_core.services import toolcalls as c
from mailguard_core.services.schemas import ACCOUNT_PATTERN, JsonSchema, with_error
from mailguard_core.services.toolspec import (
    Arg,
    Prepare,
    Role,
    ServiceCall,
    ToolDef,
    ToolSpec,
    listed_input_schema,
    listed_output_schema,
)

K, L, P = Redaction.KEEP, Redaction.LENGTH, Redaction.PSEUDONYM

__all__ = [
    "ACCOUNT_PATTERN",
    "TOOL_DEFS",
    "Arg",
    "JsonSchema",
    "Prepare",
    "Role",
    "ServiceCall",
    "ToolDef",
    "ToolSpec",
    "listed_input_schema",
    "listed_output_schema",
    "with_error",
]

# ----------------------------------------------------------------- arguments
#: the optional ``account`` argument (any tool's ``account`` is audited as a name)
ACCOUNT_ARG = "account"


def _account() -> Arg:
    return Arg(ACCOUNT_ARG, s.ACCOUNT, Redaction.NAME, Role.ACCOUNT)


_REF = Arg("message_ref", s.REF, K, Role.REF, True)
_REFS = Arg("message_refs", s.REFS, K, Role.REFS, True)
_MAX_BODY = Arg("max_body_chars", s.MAX_BODY, K)
_PART = Arg("part_id", s.PART_ID, K, required=True)
_SEARCHED = Arg("folder", {**s.FOLDER, "default": "INBOX"}, K)
_LIMIT = Arg("limit", s.LIMIT, K)
_CURSOR = Arg("cursor", s.CURSOR, L)
_LABEL = Arg("label", s.LABEL, K, Role.LABEL, True)
_COMPOSE = (
    _account(),
    Arg("to", s.addresses(1), P, required=True),
    Arg("cc", s.addresses(0), P),
    Arg("bcc", s.addresses(0), P),
    Arg("subject", s.SUBJECT, L, required=True),
    Arg("body", s.BODY, L, required=True),
    Arg(
        "in_reply_to",
        {**s.REF, "description": "message_ref of the message this replies to."},
        K,
        Role.REPLY_TO,
    ),
)


# ----------------------------------------------------------------- the table
_T = ToolName
_READ = {"read_only": True}
_CHANGE = {"read_only": False}
_FROM_NOTE = " From is the account's own address."


def _flag_tool(name: ToolName, title: str, flag: str, add: bool) -> ToolSpec:
    return ToolSpec(
        name=name,
        title=title,
        description=f"{title} (sets or clears {flag}) on 1 to 100 messages.",
        args=(_REFS,),
        output_schema=s.FLAGS_OUT,
        prepare=c.store_flag(flag, add),
        **_CHANGE,
    )


_SPECS = (
    ToolSpec(
        name=_T.LIST_FOLDERS,
        title="List folders",
        description=(
            "The account's folders with special-use flags and counts. Pass a folder back by "
            "its exact_name."
        ),
        args=(_account(),),
        output_schema=s.FOLDERS_OUT,
        prepare=c.list_folders,
        **_READ,
    ),
    ToolSpec(
        name=_T.SEARCH,
        title="Search messages",
        description=(
            "Search one folder, newest first; all given terms must match. Pass next_cursor "
            "for the next page."
        ),
        args=(
            _account(),
            _SEARCHED,
            *(Arg(term, s.SEARCH_TERM, L) for term in ("from", "to", "subject", "text")),
            Arg("since", s.DATE, K),
            Arg("before", s.DATE, K),
            *(Arg(flag, {"type": "boolean"}, K) for flag in ("seen", "flagged")),
            Arg("has_attachment", {"type": "boolean"}, K),
            _LIMIT,
            _CURSOR,
        ),
        output_schema=s.PAGE_OUT,
        prepare=c.search,
        **_READ,
    ),
    ToolSpec(
        name=_T.SEARCH_ADVANCED,
        title="Search with IMAP",
        description=(
            "Search one folder with an IMAP SEARCH expression, e.g. "
            '`OR FROM "ann" SUBJECT "report" UNSEEN`. No line breaks or literals.'
        ),
        args=(
            _account(),
            _SEARCHED,
            Arg("query", {"type": "string", "minLength": 1, "maxLength": 1000}, L, required=True),
            _LIMIT,
            _CURSOR,
        ),
        output_schema=s.PAGE_OUT,
        prepare=c.search_advanced,
        **_READ,
    ),
    ToolSpec(
        name=_T.FETCH_MESSAGE,
        title="Read a message",
        description=(
            "One message: sanitized headers and body text, with security warnings. Does not "
            "mark it read."
        ),
        args=(_REF, _MAX_BODY),
        output_schema=s.MESSAGE_OUT,
        prepare=c.fetch(False),
        **_READ,
    ),
    ToolSpec(
        name=_T.FETCH_MESSAGE_HTML,
        title="Read a message with its HTML",
        description=(
            "As fetch_message, plus the sanitized HTML (no scripts, forms or remote images)."
        ),
        args=(_REF, _MAX_BODY),
        output_schema=s.MESSAGE_OUT,
        prepare=c.fetch(True),
        **_READ,
    ),
    ToolSpec(
        name=_T.LIST_ATTACHMENTS,
        title="List attachments",
        description=(
            "The attachments of one message: part_id, sanitized file name, declared type, size."
        ),
        args=(_REF,),
        output_schema=s.ATTACHMENTS_OUT,
        prepare=c.list_attachments,
        **_READ,
    ),
    ToolSpec(
        name=_T.DOWNLOAD_ATTACHMENT,
        title="Save an attachment",
        description=(
            "Save one attachment into the account's download directory; returns its path, "
            "SHA-256 and declared and detected types. The file is not opened."
        ),
        args=(_REF, _PART),
        output_schema=s.DOWNLOAD_OUT,
        prepare=c.download_attachment,
        read_only=False,
        idempotent=False,
    ),
    ToolSpec(
        name=_T.READ_ATTACHMENT,
        title="Read an attachment",
        description=(
            "The text of one attachment (PDF, .docx, HTML, text, .ics, attached mail); text "
            "the document hides from its reader is removed and warned about."
        ),
        args=(
            _REF,
            _PART,
            Arg(
                "max_chars",
                {
                    **s.MAX_BODY,
                    "description": "Cut the text here (default: the account's body limit).",
                },
                K,
            ),
        ),
        output_schema=s.ATTACHMENT_TEXT_OUT,
        prepare=c.read_attachment,
        **_READ,
    ),
    ToolSpec(
        name=_T.LIST_LABELS,
        title="List labels",
        description="The flags, keywords and (on Gmail) labels of one message.",
        args=(_REF,),
        output_schema=s.LABELS_OUT,
        prepare=c.list_labels,
        **_READ,
    ),
    _flag_tool(_T.MARK_READ, "Mark read", "\\Seen", True),
    _flag_tool(_T.MARK_UNREAD, "Mark unread", "\\Seen", False),
    _flag_tool(_T.FLAG, "Flag", "\\Flagged", True),
    _flag_tool(_T.UNFLAG, "Unflag", "\\Flagged", False),
    ToolSpec(
        name=_T.ADD_LABEL,
        title="Add a label",
        description="Add a keyword to 1-100 messages. System flags and $PendingReview refused.",
        args=(_REFS, _LABEL),
        output_schema=s.FLAGS_OUT,
        prepare=c.set_label(True),
        **_CHANGE,
    ),
    ToolSpec(
        name=_T.REMOVE_LABEL,
        title="Remove a label",
        description="Remove a keyword from 1-100 messages. $PendingReview refused.",
        args=(_REFS, _LABEL),
        output_schema=s.FLAGS_OUT,
        prepare=c.set_label(False),
        **_CHANGE,
    ),
    ToolSpec(
        name=_T.MOVE_MESSAGE,
        title="Move messages",
        description=(
            "Move 1-100 messages to another folder; returns their new message_refs. Not into "
            "Drafts, Sent or an expunge-allowlisted folder."
        ),
        args=(_REFS, Arg("destination", s.FOLDER, K, Role.DESTINATION, True)),
        output_schema=s.MOVED_OUT,
        prepare=c.move,
        **_CHANGE,
    ),
    ToolSpec(
        name=_T.CREATE_DRAFT,
        title="Create a draft",
        description=(
            "Write a plain-text draft into Drafts (flagged $PendingReview) for a human to "
            "review and send. Nothing is sent." + _FROM_NOTE
        ),
        args=_COMPOSE,
        output_schema=s.DRAFT_OUT,
        prepare=c.outgoing(send=False),
        read_only=False,
        idempotent=False,
    ),
    ToolSpec(
        name=_T.SEND_EMAIL,
        title="Send an email",
        description=(
            "Send a plain-text message over SMTP now, then store a copy in Sent. Irreversible."
            + _FROM_NOTE
        ),
        args=_COMPOSE,
        output_schema=s.SEND_OUT,
        prepare=c.outgoing(send=True),
        read_only=False,
        destructive=True,
        idempotent=False,
        open_world=True,
    ),
    ToolSpec(
        name=_T.DELETE_MESSAGE,
        title="Delete messages",
        description="Move 1 to 100 messages to Trash (recoverable; nothing is expunged).",
        args=(_REFS,),
        output_schema=s.MOVED_OUT,
        prepare=c.delete_messages,
        read_only=False,
        destructive=True,
    ),
    ToolSpec(
        name=_T.CREATE_FOLDER,
        title="Create a folder",
        description="Create a folder. Names that shadow protected folders are refused.",
        args=(_account(), Arg("name", s.FOLDER, K, Role.NEW_FOLDER, True)),
        output_schema=s.FOLDER_OP_OUT,
        prepare=c.create_folder,
        **_CHANGE,
    ),
    ToolSpec(
        name=_T.RENAME_FOLDER,
        title="Rename a folder",
        description="Rename a folder. Protected folders (INBOX, special-use) cannot be renamed.",
        args=(
            _account(),
            Arg("folder", s.FOLDER, K, Role.FOLDER, True),
            Arg("new_name", s.FOLDER, K, Role.NEW_FOLDER, True),
        ),
        output_schema=s.FOLDER_OP_OUT,
        prepare=c.rename_folder,
        **_CHANGE,
    ),
    ToolSpec(
        name=_T.EXPUNGE,
        title="Permanently remove messages",
        description=(
            "Permanently remove 1 to 100 messages. Only in folders on the account's expunge "
            "allowlist. Irreversible."
        ),
        args=(_REFS,),
        output_schema=s.EXPUNGE_OUT,
        prepare=c.expunge,
        read_only=False,
        destructive=True,
    ),
    ToolSpec(
        name=_T.DELETE_FOLDER,
        title="Delete a folder",
        description=(
            "Permanently delete a folder and its messages. Only folders on the allowlist, "
            "never a protected one. Irreversible."
        ),
        args=(_account(), Arg("folder", s.FOLDER, K, Role.FOLDER, True)),
        output_schema=s.FOLDER_OP_OUT,
        prepare=c.delete_folder,
        read_only=False,
        destructive=True,
    ),
    ToolSpec(
        name=_T.LIST_ACCOUNTS,
        title="List accounts",
        description="The configured accounts, their addresses and postures, and the active one.",
        args=(),
        output_schema=s.ACCOUNTS_OUT,
        prepare=None,
        **_READ,
    ),
    ToolSpec(
        name=_T.USE_ACCOUNT,
        title="Switch account",
        description=(
            "Make another account the session's active one; the tool list then shows what "
            "that account's posture allows."
        ),
        # the account to switch to; the call itself acts on the active one
        args=(
            Arg(
                ACCOUNT_ARG,
                {**s.ACCOUNT, "description": "Account name."},
                Redaction.NAME,
                required=True,
            ),
        ),
        output_schema=s.USE_ACCOUNT_OUT,
        prepare=None,
        **_READ,
    ),
)

TOOL_DEFS: dict[ToolName, ToolSpec] = {spec.name: spec for spec in _SPECS}
