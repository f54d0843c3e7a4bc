"""The folder guard: protected folders, shadowing by look-alike names, the expunge allowlist."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from mailguard_core.config import FolderSettings
from mailguard_core.gate.folders import FolderGuard, folder_key
from mailguard_core.model.errors import ConfigError, FolderProtected, InputError
from mailguard_core.model.tools import ToolName
from mailguard_core.services.dispatch import describe


def check(g: FolderGuard, tool: ToolName, arguments: Mapping[str, Any]) -> None:
    """The folder check of a call with these JSON arguments, read as the gate reads them
    (a malformed value is the request's ``invalid``, raised first)."""
    request = describe(tool.value, "w", arguments)
    if request.invalid is not None:
        raise request.invalid
    g.check(request)


T = ToolName


def guard() -> FolderGuard:
    g = FolderGuard(
        FolderSettings(protected=("Projects/Keep", "Receipts"), expunge_allowed=("Spam", "Old"))
    )
    g.set_special_folders(["Sent", "Drafts", "Trash"])
    return g


@pytest.mark.parametrize(
    "name",
    [
        "INBOX",
        "inbox",
        "Inbox",
        "ＩＮＢＯＸ",
        " INBOX ",
        "IN\u200bBOX",
        "sent",
        "DRAFTS",
        "Receipts",
        "receipts",
        "Ｒｅｃｅｉｐｔｓ",
        "Projects/Keep",
        "projects/keep",
    ],
)
def test_creating_a_folder_that_looks_like_a_protected_one_is_refused(name: str) -> None:
    """create_folder of a name equal to a protected one under NFKC/case folding is refused."""
    with pytest.raises(FolderProtected):
        check(guard(), T.CREATE_FOLDER, {"name": name})


@pytest.mark.parametrize("name", ["Invoices", "INBOX/Sub", "Sent Archive", "Projects/Other"])
def test_creating_an_ordinary_folder_passes(name: str) -> None:
    """create_folder of a name unlike every protected one passes the guard."""
    check(guard(), T.CREATE_FOLDER, {"name": name})


@pytest.mark.parametrize("old", ["INBOX", "Sent", "trash", "Receipts", "Projects/Keep", "Projects"])
def test_renaming_a_protected_folder_or_its_parent_is_refused(old: str) -> None:
    """rename_folder of a protected folder, or of a folder holding one, is refused."""
    with pytest.raises(FolderProtected):
        check(guard(), T.RENAME_FOLDER, {"folder": old, "new_name": "Elsewhere"})


@pytest.mark.parametrize("new", ["INBOX", "iNbOx", "Drafts", "Ｓｅｎｔ", "receipts"])
def test_renaming_onto_a_protected_name_is_refused(new: str) -> None:
    """rename_folder onto a name that collides with a protected one is refused."""
    with pytest.raises(FolderProtected):
        check(guard(), T.RENAME_FOLDER, {"folder": "Misc", "new_name": new})


def test_renaming_an_ordinary_folder_to_an_ordinary_name_passes() -> None:
    """rename_folder between two unprotected names passes."""
    check(guard(), T.RENAME_FOLDER, {"folder": "Misc", "new_name": "Misc2"})


@pytest.mark.parametrize(
    ("folder", "public"),
    [
        ("INBOX", "this folder is protected"),
        ("Trash", "this folder is protected"),
        ("Projects", "this folder is protected"),
        ("Misc", "this folder is not on the allowlist for permanent deletion"),
        ("spam", "this folder is not on the allowlist for permanent deletion"),
    ],
)
def test_deleting_a_protected_or_unlisted_folder_is_refused(folder: str, public: str) -> None:
    """delete_folder needs an exact allowlist entry and an unprotected folder."""
    with pytest.raises(FolderProtected) as info:
        check(guard(), T.DELETE_FOLDER, {"folder": folder})
    assert info.value.public_message == public


def test_deleting_an_allowlisted_folder_passes() -> None:
    """delete_folder of a folder on the allowlist passes."""
    check(guard(), T.DELETE_FOLDER, {"folder": "Spam"})


def test_expunge_needs_every_refs_folder_on_the_allowlist() -> None:
    """expunge passes only when all refs point into allowlisted folders."""
    g = guard()
    check(g, T.EXPUNGE, {"message_refs": ["w:Spam:1:2", "w:Old:3:4"]})
    with pytest.raises(FolderProtected):
        check(g, T.EXPUNGE, {"message_refs": ["w:Spam:1:2", "w:INBOX:1:5"]})


def test_a_special_folder_on_the_allowlist_can_be_emptied_but_not_deleted() -> None:
    """A server-discovered Trash on the allowlist: expunge passes, delete_folder is refused."""
    g = FolderGuard(FolderSettings(expunge_allowed=("Trash",)))
    g.set_special_folders(["Trash"])
    check(g, T.EXPUNGE, {"message_refs": ["w:Trash:7:1"]})
    with pytest.raises(FolderProtected):
        check(g, T.DELETE_FOLDER, {"folder": "Trash"})


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"message_refs": []},
        {"message_refs": "w:Spam:1:2"},
        {"message_refs": ["nope"]},
        {"message_refs": [1]},
        {"message_refs": ["w:Spam:1:2"] * 101},
    ],
)
def test_malformed_expunge_refs_are_input_errors(arguments: dict[str, Any]) -> None:
    """expunge with missing, empty, oversized or malformed refs is refused as bad input."""
    with pytest.raises(InputError):
        check(guard(), T.EXPUNGE, arguments)


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        (T.CREATE_FOLDER, {}),
        (T.RENAME_FOLDER, {"folder": "a"}),
        (T.DELETE_FOLDER, {"folder": 3}),
        (T.MOVE_MESSAGE, {"destination": ""}),
    ],
)
def test_missing_folder_arguments_are_input_errors(
    tool: ToolName, arguments: dict[str, Any]
) -> None:
    """A folder tool without its folder argument is refused as bad input."""
    with pytest.raises(InputError):
        check(guard(), tool, arguments)


def test_moving_into_a_protected_folder_is_fine() -> None:
    """move_message into INBOX or Trash is not a folder-guard concern."""
    check(guard(), T.MOVE_MESSAGE, {"destination": "Trash", "message_refs": ["w:INBOX:1:1"]})


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"protected": ("Old",), "expunge_allowed": ("old",)}, "also in protected"),
        ({"expunge_allowed": ("INBOX",)}, "INBOX is always protected"),
        ({"expunge_allowed": ("Inbox",)}, "INBOX is always protected"),
    ],
)
def test_overlapping_folder_lists_are_config_errors(
    values: dict[str, tuple[str, ...]], fragment: str
) -> None:
    """The protected list and the allowlist may not overlap, and INBOX is never allowlisted:
    refused when the settings are built (the guard trusts the settings it is given)."""
    with pytest.raises(ConfigError, match=fragment):
        FolderSettings(**values)


def test_folder_keys_fold_case_width_and_invisible_characters() -> None:
    """Look-alike spellings of a name share one comparison key."""
    assert folder_key("ＩＮＢＯＸ") == folder_key("inbox") == folder_key(" In\u200dbox\u00ad ")
    assert folder_key("Straße") == folder_key("STRASSE")
