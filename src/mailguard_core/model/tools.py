"""The closed set of tool names and the four postures (``shared/spec/tools.md``).

Tool names here are the only spellings mailguard accepts: lookups are exact, so a name with
other case, whitespace, look-alike characters or a prefix is simply unknown.
"""

from __future__ import annotations

import enum


class Posture(enum.StrEnum):
    """How much an agent may do on an account. Each posture allows a superset of the one before."""

    READONLY = "readonly"
    DRAFT_SAFE = "draft-safe"
    FULL = "full"
    DESTRUCTIVE = "destructive"


class ToolName(enum.StrEnum):
    """Every tool mailguard serves: 23 posture-gated tools and 2 infrastructure tools."""

    LIST_FOLDERS = "list_folders"
    SEARCH = "search"
    SEARCH_ADVANCED = "search_advanced"
    FETCH_MESSAGE = "fetch_message"
    FETCH_MESSAGE_HTML = "fetch_message_html"
    LIST_ATTACHMENTS = "list_attachments"
    DOWNLOAD_ATTACHMENT = "download_attachment"
    READ_ATTACHMENT = "read_attachment"
    LIST_LABELS = "list_labels"
    MARK_READ = "mark_read"
    MARK_UNREAD = "mark_unread"
    FLAG = "flag"
    UNFLAG = "unflag"
    ADD_LABEL = "add_label"
    REMOVE_LABEL = "remove_label"
    MOVE_MESSAGE = "move_message"
    CREATE_DRAFT = "create_draft"
    SEND_EMAIL = "send_email"
    DELETE_MESSAGE = "delete_message"
    CREATE_FOLDER = "create_folder"
    RENAME_FOLDER = "rename_folder"
    EXPUNGE = "expunge"
    DELETE_FOLDER = "delete_folder"
    # infrastructure: always available, not posture-gated
    LIST_ACCOUNTS = "list_accounts"
    USE_ACCOUNT = "use_account"


INFRASTRUCTURE_TOOLS: frozenset[ToolName] = frozenset(
    {ToolName.LIST_ACCOUNTS, ToolName.USE_ACCOUNT}
)
GATED_TOOLS: frozenset[ToolName] = frozenset(ToolName) - INFRASTRUCTURE_TOOLS

_T = ToolName
#: the lowest posture that allows each gated tool (the spec's matrix, one column per posture)
MINIMUM_POSTURE: dict[ToolName, Posture] = {
    **dict.fromkeys(
        (
            _T.LIST_FOLDERS,
            _T.SEARCH,
            _T.FETCH_MESSAGE,
            _T.LIST_ATTACHMENTS,
            _T.DOWNLOAD_ATTACHMENT,
            _T.READ_ATTACHMENT,
            _T.LIST_LABELS,
        ),
        Posture.READONLY,
    ),
    **dict.fromkeys(
        (
            _T.MARK_READ,
            _T.MARK_UNREAD,
            _T.FLAG,
            _T.UNFLAG,
            _T.ADD_LABEL,
            _T.REMOVE_LABEL,
            _T.MOVE_MESSAGE,
            _T.CREATE_DRAFT,
        ),
        Posture.DRAFT_SAFE,
    ),
    **dict.fromkeys(
        (
            _T.SEARCH_ADVANCED,
            _T.FETCH_MESSAGE_HTML,
            _T.SEND_EMAIL,
            _T.DELETE_MESSAGE,
            _T.CREATE_FOLDER,
            _T.RENAME_FOLDER,
        ),
        Posture.FULL,
    ),
    **dict.fromkeys((_T.EXPUNGE, _T.DELETE_FOLDER), Posture.DESTRUCTIVE),
}

_ORDER = (Posture.READONLY, Posture.DRAFT_SAFE, Posture.FULL, Posture.DESTRUCTIVE)


def posture_allows(posture: Posture, tool: ToolName) -> bool:
    """Whether the posture's column of the matrix allows the tool (overrides not applied)."""
    if tool in INFRASTRUCTURE_TOOLS:
        return True
    return _ORDER.index(posture) >= _ORDER.index(MINIMUM_POSTURE[tool])


def parse_tool_name(name: str) -> ToolName | None:
    """The tool called exactly ``name``, or None. No normalisation of any kind is applied."""
    try:
        return ToolName(name)
    except ValueError:
        return None
