"""The posture matrix (25 tools x 4 postures) and per-account overrides, table-driven."""

from __future__ import annotations

import pytest

from mailguard_core.config import ToolOverrides
from mailguard_core.gate.policy import effective_tools
from mailguard_core.model.errors import ConfigError
from mailguard_core.model.tools import Posture, ToolName

R, D, F, X = Posture.READONLY, Posture.DRAFT_SAFE, Posture.FULL, Posture.DESTRUCTIVE
ALL = (R, D, F, X)

#: the spec's matrix, written out cell by cell (tools.md): which postures allow each tool
MATRIX: dict[str, tuple[Posture, ...]] = {
    "list_folders": ALL,
    "search": ALL,
    "fetch_message": ALL,
    "list_attachments": ALL,
    "download_attachment": ALL,
    "read_attachment": ALL,
    "list_labels": ALL,
    "search_advanced": (F, X),
    "fetch_message_html": (F, X),
    "mark_read": (D, F, X),
    "mark_unread": (D, F, X),
    "flag": (D, F, X),
    "unflag": (D, F, X),
    "add_label": (D, F, X),
    "remove_label": (D, F, X),
    "move_message": (D, F, X),
    "create_draft": (D, F, X),
    "send_email": (F, X),
    "delete_message": (F, X),
    "create_folder": (F, X),
    "rename_folder": (F, X),
    "expunge": (X,),
    "delete_folder": (X,),
    "list_accounts": ALL,
    "use_account": ALL,
}

CELLS = [(tool, posture) for tool in MATRIX for posture in ALL]


def test_the_matrix_covers_exactly_the_25_tools() -> None:
    """The table above names every tool mailguard serves and nothing else."""
    assert set(MATRIX) == {tool.value for tool in ToolName}
    assert len(MATRIX) == 25


@pytest.mark.parametrize(("tool", "posture"), CELLS, ids=[f"{t}-{p}" for t, p in CELLS])
def test_each_cell_of_the_matrix_allows_or_denies_as_the_spec_says(
    tool: str, posture: Posture
) -> None:
    """A posture without overrides allows a tool exactly when the spec's cell says yes."""
    allowed = effective_tools(posture)
    assert (ToolName(tool) in allowed) is (posture in MATRIX[tool])


@pytest.mark.parametrize("posture", ALL)
def test_each_posture_allows_everything_the_one_before_it_allows(posture: Posture) -> None:
    """Postures are ordered: readonly is within draft-safe, within full, within destructive."""
    index = ALL.index(posture)
    if index:
        assert effective_tools(ALL[index - 1]) <= effective_tools(posture)


OVERRIDE_CASES = [
    # (posture, allow, deny, tool, expected)
    (R, ("send_email",), (), "send_email", True),
    (R, ("expunge",), (), "expunge", True),
    (X, (), ("expunge",), "expunge", False),
    (F, (), ("send_email",), "send_email", False),
    (F, (), ("send_email",), "create_draft", True),
    (D, ("delete_folder",), ("create_draft",), "delete_folder", True),
    (D, ("delete_folder",), ("create_draft",), "create_draft", False),
    (R, (), ("search",), "search", False),
    (R, (), ("search",), "fetch_message", True),
    (D, ("mark_read",), (), "mark_read", True),
]


@pytest.mark.parametrize(("posture", "allow", "deny", "tool", "expected"), OVERRIDE_CASES)
def test_an_override_replaces_exactly_one_cell(
    posture: Posture, allow: tuple[str, ...], deny: tuple[str, ...], tool: str, expected: bool
) -> None:
    """allow turns its cell on, deny turns it off, every other cell keeps the posture's value."""
    tools = effective_tools(posture, ToolOverrides(allow=allow, deny=deny))
    assert (ToolName(tool) in tools) is expected
    touched = {ToolName(n) for n in allow + deny}
    baseline = effective_tools(posture)
    assert tools - touched == baseline - touched


@pytest.mark.parametrize(
    ("allow", "deny", "fragment"),
    [
        (("Send_email",), (), "unknown tool name 'Send_email'"),
        ((), ("send-email",), "unknown tool name 'send-email'"),
        ((" search",), (), "unknown tool name ' search'"),
        (("search",), ("search",), "both allowed and denied"),
        ((), ("list_accounts",), "'list_accounts' is always available"),
        (("use_account",), (), "'use_account' is always available"),
    ],
)
def test_overrides_with_unknown_contradictory_or_infrastructure_names_are_config_errors(
    allow: tuple[str, ...], deny: tuple[str, ...], fragment: str
) -> None:
    """A misspelled, contradictory or infrastructure override is refused when the overrides
    are built (the gate trusts the overrides it is given)."""
    with pytest.raises(ConfigError, match=fragment):
        ToolOverrides(allow=allow, deny=deny)


@pytest.mark.parametrize("posture", ALL)
def test_infrastructure_tools_are_always_allowed(posture: Posture) -> None:
    """list_accounts and use_account are in every account's tool set, whatever is denied."""
    tools = effective_tools(posture, ToolOverrides(deny=("search", "list_folders")))
    assert {ToolName.LIST_ACCOUNTS, ToolName.USE_ACCOUNT} <= tools
