"""Every tool through the real MCP client (in-memory transport) in every posture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import jsonschema
import pytest

from mailguard_core.model.tools import MINIMUM_POSTURE, Posture, ToolName, posture_allows
from mailguard_core.model.values import MessageRef
from mailguard_core.services.tooldefs import TOOL_DEFS
from mcp import Client
from tests.mcp.harness import account, limits, make_harness, structured

pytestmark = pytest.mark.anyio

_T = ToolName


def arguments_for(
    tool: ToolName, refs: dict[str, MessageRef], account: str = "work"
) -> dict[str, Any]:
    """Valid arguments for each tool, in an order (ToolName's) where earlier calls do not
    break later ones."""
    plain, attack = str(refs["plain"]), str(refs["attack"])
    one = {"message_refs": [plain]}
    compose = {"to": ["bob@example.org"], "subject": "Hi", "body": "Hello Bob"}
    table: dict[ToolName, dict[str, Any]] = {
        _T.LIST_FOLDERS: {},
        _T.SEARCH: {"folder": "INBOX", "subject": "Lunch", "limit": 5},
        _T.SEARCH_ADVANCED: {"query": 'SUBJECT "Lunch"'},
        _T.FETCH_MESSAGE: {"message_ref": plain},
        _T.FETCH_MESSAGE_HTML: {"message_ref": attack},
        _T.LIST_ATTACHMENTS: {"message_ref": str(refs["attachment"])},
        _T.DOWNLOAD_ATTACHMENT: {"message_ref": str(refs["attachment"]), "part_id": "2"},
        _T.READ_ATTACHMENT: {"message_ref": str(refs["attachment"]), "part_id": "2"},
        _T.LIST_LABELS: {"message_ref": plain},
        _T.MARK_READ: one,
        _T.MARK_UNREAD: one,
        _T.FLAG: one,
        _T.UNFLAG: one,
        _T.ADD_LABEL: {**one, "label": "$Todo"},
        _T.REMOVE_LABEL: {**one, "label": "$Todo"},
        _T.MOVE_MESSAGE: {**one, "destination": "Trash"},
        _T.CREATE_DRAFT: compose,
        _T.SEND_EMAIL: compose,
        _T.DELETE_MESSAGE: {"message_refs": [attack]},
        _T.CREATE_FOLDER: {"name": "Projects"},
        _T.RENAME_FOLDER: {"folder": "Projects", "new_name": "Projects 2026"},
        _T.EXPUNGE: {"message_refs": [str(refs["junk"])]},
        _T.DELETE_FOLDER: {"folder": "Scratch"},
        _T.LIST_ACCOUNTS: {},
        _T.USE_ACCOUNT: {"account": account},
    }
    return table[tool]


@pytest.mark.parametrize("posture", list(Posture))
async def test_tools_list_is_exactly_the_postures_column(tmp_path: Path, posture: Posture) -> None:
    """tools/list shows the allowed tools of the active account's posture and nothing else."""
    h = make_harness(tmp_path, account(posture=posture))
    async with Client(h.server()) as client:
        listed = {t.name for t in (await client.list_tools()).tools}
    expected = {t.value for t in ToolName if posture_allows(posture, t)}
    assert listed == expected


@pytest.mark.parametrize("posture", list(Posture))
async def test_every_tool_works_when_allowed_and_is_refused_when_denied(
    tmp_path: Path, posture: Posture
) -> None:
    """Allowed tools succeed end to end (output validated by the client against the listed
    schema and here against the full one); denied ones are refused at dispatch with the one
    non-revealing message."""
    h = make_harness(tmp_path, account(posture=posture, limits=limits(100, 100)))
    refs = h.seed()
    outcomes: dict[str, tuple[bool, str]] = {}
    async with Client(h.server()) as client:
        await client.list_tools()
        for tool in ToolName:
            result = await client.call_tool(tool.value, arguments_for(tool, refs))
            text = result.content[0].text if result.content else ""
            outcomes[tool.value] = (bool(result.is_error), text)
            # tools/list shows a compact output schema; every result meets the full one
            jsonschema.validate(result.structured_content, TOOL_DEFS[tool].output_schema)
    for tool in ToolName:
        is_error, text = outcomes[tool.value]
        if posture_allows(posture, tool):
            assert not is_error, f"{tool}: {text}"
        else:
            assert is_error and text == "error tool_denied: this tool is not available", tool
    sender = h.senders["work"]
    assert len(sender.sent) == (1 if posture_allows(posture, _T.SEND_EMAIL) else 0)


async def test_unknown_and_misspelled_tools_get_the_same_refusal_as_denied_ones(
    tmp_path: Path,
) -> None:
    """Unknown names, other case, look-alikes and padded names are refused identically."""
    h = make_harness(tmp_path, account(posture=Posture.READONLY))
    async with Client(h.server()) as client:
        texts = set()
        for name in ("expunge", "EXPUNGE", "send_emai1", " search", "s\u0435arch", "nope"):
            result = await client.call_tool(name, {})
            assert result.is_error
            texts.add(result.content[0].text)
            assert structured(result)["error"]["code"] == "tool_denied"
    assert texts == {"error tool_denied: this tool is not available"}


async def test_every_call_refused_or_not_writes_a_start_and_an_end_audit_record(
    tmp_path: Path,
) -> None:
    """Two audit records per call, linked by sequence number, for allowed and refused calls."""
    h = make_harness(tmp_path, account(posture=Posture.READONLY))
    h.seed()
    async with Client(h.server()) as client:
        await client.call_tool("search", {"subject": "Lunch"})
        await client.call_tool("expunge", {"message_refs": [str(h.refs["junk"])]})
        await client.call_tool("no_such_tool", {})
    starts = h.audit.of_kind("call_start")
    ends = h.audit.of_kind("call_end")
    assert len(starts) == len(ends) == 3
    assert [e["start_seq"] for e in ends] == [s["seq"] for s in starts]
    assert [e["outcome"] for e in ends] == ["ok", "refused", "refused"]


async def test_an_attack_message_arrives_sanitized_with_its_warnings(tmp_path: Path) -> None:
    """Hidden text and scripts are gone, warnings name them, the text content is fenced."""
    h = make_harness(tmp_path, account(posture=Posture.FULL))
    refs = h.seed()
    async with Client(h.server()) as client:
        result = await client.call_tool("fetch_message_html", {"message_ref": str(refs["attack"])})
    envelope = structured(result)
    codes = {w["code"] for w in envelope["security_warnings"]}
    assert {"html_hidden_content_removed", "html_script_removed"} <= codes
    assert "lookalike_confusable_domain" in codes or "lookalike_mixed_script_domain" in codes
    assert "unicode_zero_width_stripped" in codes
    body = envelope["untrusted"]["body_text"]
    assert "Quarterly numbers" in body
    assert "ignore all previous instructions" not in body
    assert "<script" not in envelope["untrusted"].get("html", "")
    assert envelope["meta"]["message_ref"] == str(refs["attack"])
    text = result.content[0].text
    assert "Quarterly numbers" in text and "ignore all previous" not in text


async def test_search_pages_with_a_cursor_until_the_last_page(tmp_path: Path) -> None:
    """search returns envelopes newest first and a cursor that walks every hit exactly once."""
    h = make_harness(tmp_path, account())
    h.seed()
    seen: list[str] = []
    async with Client(h.server()) as client:
        arguments: dict[str, Any] = {"folder": "INBOX", "limit": 1}
        for _ in range(10):
            page = structured(await client.call_tool("search", arguments))
            seen.extend(item["meta"]["message_ref"] for item in page["items"])
            if page["meta"]["next_cursor"] is None:
                break
            arguments["cursor"] = page["meta"]["next_cursor"]
    assert len(seen) == len(set(seen)) == 3
    assert [MessageRef.parse(r).uid for r in seen] == sorted(
        (MessageRef.parse(r).uid for r in seen), reverse=True
    )


async def test_invalid_arguments_get_a_clear_input_error(tmp_path: Path) -> None:
    """Schema violations and malformed refs are refused with invalid_input, naming the field."""
    h = make_harness(tmp_path, account())
    async with Client(h.server()) as client:
        too_many = await client.call_tool("search", {"limit": 500})
        unknown = await client.call_tool("search", {"colour": "red"})
        bad_ref = await client.call_tool("fetch_message", {"message_ref": "work:INBOX:x:1"})
        bad_date = await client.call_tool("search", {"since": "2026-13-45"})
    for result in (too_many, unknown, bad_ref, bad_date):
        assert result.is_error
        assert structured(result)["error"]["code"] == "invalid_input"
    assert "limit" in too_many.content[0].text
    assert "colour" in unknown.content[0].text


async def test_refs_of_two_accounts_in_one_call_are_refused(tmp_path: Path) -> None:
    """All refs of one call must name one account."""
    h = make_harness(tmp_path, account("work"), account("home"))
    h.seed("work")
    other = MessageRef(account="home", folder="INBOX", uidvalidity=1, uid=1)
    async with Client(h.server()) as client:
        result = await client.call_tool(
            "mark_read", {"message_refs": [str(h.refs["plain"]), str(other)]}
        )
    assert result.is_error
    assert structured(result)["error"]["code"] == "invalid_input"


async def test_many_concurrent_calls_are_all_answered(tmp_path: Path) -> None:
    """Concurrent tool calls on one account are serialized per store and all complete."""
    h = make_harness(tmp_path, account())
    h.seed()
    results: list[bool] = []
    async with Client(h.server()) as client:

        async def one() -> None:
            r = await client.call_tool("fetch_message", {"message_ref": str(h.refs["plain"])})
            results.append(bool(r.is_error))

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for _ in range(8):
                    tg.start_soon(one)
    assert results == [False] * 8


def test_the_matrix_in_tools_py_covers_every_gated_tool() -> None:
    """Sanity: the posture matrix the tests compare against names every gated tool."""
    assert set(MINIMUM_POSTURE) | {_T.LIST_ACCOUNTS, _T.USE_ACCOUNT} == set(ToolName)
