"""Schema-invalid calls cost nothing and are audited as given (issue 12, item 9), through the
real MCP client: they are refused after the posture check and before the breaker and the
rate limiter, and the audit start record holds their redacted arguments, not ``{}``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailguard_core.gate.redaction import redact_arguments
from mailguard_core.model.tools import Posture, ToolName
from mailguard_core.services.dispatch import describe
from mcp import Client
from tests.mcp.harness import account, breaker, limits, make_harness, structured

pytestmark = pytest.mark.anyio

#: calls the schema refuses: a wrong type, an unknown argument, a bound, a bad ref
INVALID: list[tuple[str, dict[str, Any]]] = [
    ("search", {"folder": "INBOX", "limit": 0}),
    ("search", {"folder": "INBOX", "subject": "quarterly report", "bogus": 1}),
    ("search", {"since": "0001-01-01"}),
    ("search_advanced", {"query": 5}),
    ("fetch_message", {"message_ref": "work:INBOX:1:4294967296"}),
    ("fetch_message", {}),
    ("list_folders", {"account": "no such account!"}),
    ("mark_read", {"message_refs": []}),
]


async def test_invalid_calls_take_no_rate_limit_token(tmp_path: Path) -> None:
    """Burst 2, nearly no refill: twenty invalid calls, then both tokens are still there."""
    h = make_harness(tmp_path, account(limits=limits(0.001, 2)))
    async with Client(h.server()) as client:
        refused = [await client.call_tool(t, a) for t, a in INVALID for _ in range(3)]
        valid = [await client.call_tool("list_folders", {}) for _ in range(3)]
    codes = {structured(r)["error"]["code"] for r in refused}
    assert codes <= {"invalid_input", "invalid_search"}, codes
    assert [bool(r.is_error) for r in valid] == [False, False, True]
    assert structured(valid[2])["error"]["code"] == "rate_limited"


async def test_invalid_calls_never_take_the_probe_or_count(tmp_path: Path) -> None:
    """A breaker with threshold 1 stays closed through any number of invalid calls."""
    h = make_harness(tmp_path, account(breaker=breaker(1)))
    async with Client(h.server()) as client:
        for tool, arguments in INVALID * 3:
            await client.call_tool(tool, arguments)
        after = await client.call_tool("list_folders", {})
    assert not after.is_error


async def test_invalid_calls_are_audited_with_their_redacted_arguments(tmp_path: Path) -> None:
    h = make_harness(tmp_path, account())
    async with Client(h.server()) as client:
        for tool, arguments in INVALID:
            await client.call_tool(tool, arguments)
    starts = h.audit.of_kind("call_start")
    ends = h.audit.of_kind("call_end")
    assert len(starts) == len(ends) == len(INVALID)
    by_tool = [(s["tool"], s["args"]) for s in starts]
    assert ("search", {"folder": "INBOX", "limit": 0}) in by_tool
    [(_, bogus)] = [x for x in by_tool if "bogus" in x[1]]
    assert bogus["bogus"] == "[redacted]" and bogus["folder"] == "INBOX"
    assert "quarterly" not in json.dumps(bogus)  # the subject is a length marker
    refs = [a for t, a in by_tool if t == "fetch_message" and a]
    assert refs == [{"message_ref": "work:INBOX:1:4294967296"}]
    assert all(e["outcome"] == "error" for e in ends)
    assert {e["code"] for e in ends} <= {"invalid_input", "invalid_search"}


async def test_a_denied_tool_with_invalid_arguments_is_still_denied(tmp_path: Path) -> None:
    """The posture check comes first: a readonly account learns nothing about the schema of
    a tool it may not call (and the denial is audited with the arguments)."""
    h = make_harness(tmp_path, account(posture=Posture.READONLY))
    async with Client(h.server()) as client:
        result = await client.call_tool("expunge", {"message_refs": "nope"})
    assert structured(result)["error"]["code"] == "tool_denied"
    assert h.audit.of_kind("call_start")[0]["args"] == {"message_refs": "nope"}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200)
@given(st.sampled_from(list(ToolName)), st.dictionaries(st.text(max_size=20), JSON, max_size=8))
def test_redaction_takes_any_json_arguments(tool: ToolName, arguments: dict[str, Any]) -> None:
    """Whatever a caller sends, the audit can record it: JSON out, bounded, no crash."""
    request = describe(tool.value, "w", arguments)  # never raises: a bad value is `invalid`
    out = redact_arguments(request.arguments, lambda v: "p:" + str(len(v)))
    text = json.dumps(out, allow_nan=True)
    assert len(text) < 20_000


async def test_a_call_is_bounded_by_the_posture_of_the_account_it_names(tmp_path: Path) -> None:
    """Item 11, as the README now says: the active account bounds only calls that name no
    account; a call naming another account (``account`` or refs) gets that account's posture,
    never more, whatever the active one is."""
    h = make_harness(
        tmp_path,
        account("ro", Posture.READONLY),
        account("work", Posture.FULL),
        account("safe", Posture.DRAFT_SAFE),
    )
    work = dict(h.seed("work"))
    safe = dict(h.seed("safe"))
    async with Client(h.server()) as client:
        listed = {t.name for t in (await client.list_tools()).tools}
        marked = await client.call_tool("mark_read", {"message_refs": [str(work["plain"])]})
        deleted = await client.call_tool("delete_message", {"message_refs": [str(safe["plain"])]})
        folders = await client.call_tool("list_folders", {"account": "work"})
        created = await client.call_tool("create_folder", {"name": "New", "account": "ro"})
        mixed = await client.call_tool(
            "mark_read", {"message_refs": [str(work["plain"]), str(safe["attack"])]}
        )
    assert "mark_read" not in listed  # the active account is readonly
    assert not marked.is_error  # ... but work's posture (full) allows it
    assert structured(deleted)["error"]["code"] == "tool_denied"  # safe is draft-safe
    assert not folders.is_error
    assert structured(created)["error"]["code"] == "tool_denied"
    # refs of two accounts: refused (under the active readonly posture, denied first)
    assert structured(mixed)["error"]["code"] in ("tool_denied", "invalid_input")
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert "anything else is\n  refused at dispatch" not in readme
    assert "against the posture of the account it acts on" in " ".join(readme.split())
