"""``[accounts.confirm]`` (issue 21): defaults, and every bad value reported with its key path."""

from __future__ import annotations

from typing import Any

import pytest

from mailguard_core.config import DEFAULT_CONFIRM_TOOLS, parse_config
from tests.unit.test_config import account, problems_of


def test_confirmation_is_on_by_default_for_sends_deletions_expunges_and_folder_ops() -> None:
    [acc] = parse_config({"accounts": [account()]}).accounts
    assert (
        acc.confirm.tools
        == DEFAULT_CONFIRM_TOOLS
        == (
            "send_email",
            "delete_message",
            "expunge",
            "delete_folder",
            "rename_folder",
        )
    )
    assert acc.confirm.on_unsupported == "draft" and acc.confirm.timeout_seconds == 120.0


def test_an_empty_list_turns_it_off_and_move_message_may_be_added() -> None:
    off = parse_config({"accounts": [account(confirm={"tools": []})]}).accounts[0]
    assert off.confirm.tools == ()
    more = parse_config(
        {"accounts": [account(confirm={"tools": ["move_message"], "on_unsupported": "refuse"})]}
    ).accounts[0]
    assert more.confirm.tools == ("move_message",) and more.confirm.on_unsupported == "refuse"


@pytest.mark.parametrize(
    ("confirm", "expected"),
    [
        ({"tools": ["send_mail"]}, "accounts[0].confirm.tools[0]: unknown tool 'send_mail'"),
        ({"tools": ["search"]}, "accounts[0].confirm.tools[0]: 'search' cannot be confirmed"),
        ({"tools": ["expunge", "expunge"]}, "accounts[0].confirm.tools[1]: 'expunge' is listed"),
        ({"tools": "send_email"}, "accounts[0].confirm.tools"),
        ({"on_unsupported": "proceed"}, "accounts[0].confirm.on_unsupported: must be one of"),
        ({"timeout_seconds": 0}, "accounts[0].confirm.timeout_seconds: must be 1-3600"),
        ({"timeout_seconds": 1e9}, "accounts[0].confirm.timeout_seconds: must be 1-3600"),
        ({"timeout_seconds": float("nan")}, "accounts[0].confirm.timeout_seconds"),
        ({"ask": True}, "accounts[0].confirm"),
        ("yes", "accounts[0].confirm"),
    ],
)
def test_a_bad_confirm_table_is_reported_with_its_key_path(confirm: Any, expected: str) -> None:
    problems = problems_of({"accounts": [account(confirm=confirm)]})
    assert any(p.startswith(expected) for p in problems), problems
