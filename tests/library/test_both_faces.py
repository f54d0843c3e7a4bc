"""The library and the MCP server are one service: the same call through both faces writes
the same audit records (posture, folder guard, rate limits, breaker, redaction, summary)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mailguard_core import Mailbox, MailguardError, Posture, ToolName, open_mailbox
from mailguard_core.adapters.memory_audit import InMemoryAuditSink
from mailguard_core.adapters.memory_store import InMemoryMailStore
from mailguard_core.model.values import MessageRef
from mcp import Client
from tests.mcp.harness import Harness, account, limits, make_harness
from tests.mcp.test_server_tools import arguments_for

_T = ToolName

#: each tool through its typed method, from the MCP arguments of ``arguments_for``
TYPED: dict[ToolName, Callable[[Mailbox, dict[str, Any]], object]] = {
    _T.LIST_FOLDERS: lambda m, a: m.list_folders(),
    _T.SEARCH: lambda m, a: m.search(a["folder"], subject=a["subject"], limit=a["limit"]),
    _T.SEARCH_ADVANCED: lambda m, a: m.search_advanced(a["query"]),
    _T.FETCH_MESSAGE: lambda m, a: m.fetch_message(MessageRef.parse(a["message_ref"])),
    _T.FETCH_MESSAGE_HTML: lambda m, a: m.fetch_message_html(a["message_ref"]),
    _T.LIST_ATTACHMENTS: lambda m, a: m.list_attachments(a["message_ref"]),
    _T.DOWNLOAD_ATTACHMENT: lambda m, a: m.download_attachment(a["message_ref"], a["part_id"]),
    _T.READ_ATTACHMENT: lambda m, a: m.read_attachment(a["message_ref"], a["part_id"]),
    _T.LIST_LABELS: lambda m, a: m.list_labels(a["message_ref"]),
    _T.MARK_READ: lambda m, a: m.mark_read(a["message_refs"]),
    _T.MARK_UNREAD: lambda m, a: m.mark_unread(a["message_refs"][0]),
    _T.FLAG: lambda m, a: m.flag(a["message_refs"]),
    _T.UNFLAG: lambda m, a: m.unflag(a["message_refs"]),
    _T.ADD_LABEL: lambda m, a: m.add_label(a["message_refs"], a["label"]),
    _T.REMOVE_LABEL: lambda m, a: m.remove_label(a["message_refs"], a["label"]),
    _T.MOVE_MESSAGE: lambda m, a: m.move_message(a["message_refs"], a["destination"]),
    _T.CREATE_DRAFT: lambda m, a: m.create_draft(a["to"], a["subject"], a["body"]),
    _T.SEND_EMAIL: lambda m, a: m.send_email(a["to"], a["subject"], a["body"]),
    _T.DELETE_MESSAGE: lambda m, a: m.delete_message(a["message_refs"]),
    _T.CREATE_FOLDER: lambda m, a: m.create_folder(a["name"]),
    _T.RENAME_FOLDER: lambda m, a: m.rename_folder(a["folder"], a["new_name"]),
    _T.EXPUNGE: lambda m, a: m.expunge(a["message_refs"]),
    _T.DELETE_FOLDER: lambda m, a: m.delete_folder(a["folder"]),
    _T.LIST_ACCOUNTS: lambda m, a: m.list_accounts(),
    _T.USE_ACCOUNT: lambda m, a: m.use_account(a["account"]),
}

#: the parts of a record that differ between any two runs (time, and the chain over it)
_VOLATILE = ("ts", "ms", "hash", "prev")


def test_every_tool_has_exactly_one_typed_method() -> None:
    assert set(TYPED) == set(ToolName)
    for tool in ToolName:
        assert callable(getattr(Mailbox, tool.value))


def _harness(
    tmp: Path, posture: Posture, like: Harness | None = None
) -> tuple[Harness, dict[str, Any]]:
    """A seeded harness; ``like``: with that one's UIDVALIDITYs (a process-wide counter gives
    each in-memory folder a new one), so that both faces see the same message refs."""
    h = make_harness(
        tmp,
        account(posture=posture, limits=limits(100, 100), download_dir=str(tmp / "downloads")),
    )
    # the salt of the audit pseudonyms is random per sink: the same one for both faces
    h.audit._salt = b"\x00" * 16
    if like is not None:
        store, model = h.stores["work"], like.stores["work"]
        assert isinstance(store, InMemoryMailStore) and isinstance(model, InMemoryMailStore)
        for name, folder in store._memory.folders.items():
            folder.uidvalidity = model._memory.folders[name].uidvalidity
    refs = h.seed()
    return h, refs


def _records(sink: InMemoryAuditSink) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in _VOLATILE} for r in sink.records]


async def _over_mcp(h: Harness, tool: ToolName, arguments: dict[str, Any]) -> bool:
    async with Client(h.server()) as client:
        result = await client.call_tool(tool.value, arguments)
    return not result.is_error


def _in_library(h: Harness, tool: ToolName, arguments: dict[str, Any]) -> bool:
    with open_mailbox(h.config, stores=h.stores, senders=h.senders, audit=h.audit) as mailbox:
        try:
            TYPED[tool](mailbox, arguments)
        except MailguardError:
            return False
    return True


CASES = [(tool, Posture.DESTRUCTIVE) for tool in ToolName] + [
    # refused by the posture: the same refusal, audited the same way
    (_T.SEND_EMAIL, Posture.DRAFT_SAFE),
    (_T.DELETE_FOLDER, Posture.READONLY),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("tool", "posture"), CASES, ids=lambda v: str(v))
async def test_the_same_call_writes_the_same_audit_records_through_both_faces(
    tmp_path: Path, tool: ToolName, posture: Posture
) -> None:
    h_mcp, refs = _harness(tmp_path / "mcp", posture)
    h_lib, refs_lib = _harness(tmp_path / "lib", posture, like=h_mcp)
    assert refs == refs_lib
    if tool is _T.RENAME_FOLDER:  # the folder that create_folder makes in the tool sequence
        for h in (h_mcp, h_lib):
            store = h.stores["work"]
            assert isinstance(store, InMemoryMailStore)
            store.add_folder("Projects")
    arguments = arguments_for(tool, refs)
    ok_mcp = await _over_mcp(h_mcp, tool, arguments)
    ok_lib = _in_library(h_lib, tool, arguments)
    assert ok_mcp == ok_lib == (posture is Posture.DESTRUCTIVE)
    mcp_records, lib_records = _records(h_mcp.audit), _records(h_lib.audit)
    assert [r["kind"] for r in mcp_records] == ["call_start", "call_end"]
    assert mcp_records == lib_records


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        (_T.SEARCH, {"limit": 1000}),
        (_T.FETCH_MESSAGE, {"message_ref": "work:INBOX:01:1"}),
        (_T.SEND_EMAIL, {"to": ["not an address"], "subject": "x", "body": "y"}),
        (_T.LIST_FOLDERS, {"surprise": True}),
    ],
    ids=["limit", "ref", "address", "unknown-argument"],
)
async def test_invalid_arguments_are_refused_and_audited_the_same_through_both_faces(
    tmp_path: Path, tool: ToolName, arguments: dict[str, Any]
) -> None:
    """Through the generic ``Mailbox.call`` (the typed methods cannot even express most of
    these): the schema's refusal, audited as over MCP."""
    h_mcp, _ = _harness(tmp_path / "mcp", Posture.DESTRUCTIVE)
    h_lib, _ = _harness(tmp_path / "lib", Posture.DESTRUCTIVE, like=h_mcp)
    assert not await _over_mcp(h_mcp, tool, arguments)
    with (
        open_mailbox(
            h_lib.config, stores=h_lib.stores, senders=h_lib.senders, audit=h_lib.audit
        ) as mailbox,
        pytest.raises(MailguardError) as caught,
    ):
        mailbox.call(tool, arguments)
    assert caught.value.code == "invalid_input"
    assert _records(h_mcp.audit) == _records(h_lib.audit)
    assert _records(h_lib.audit)[-1]["code"] == "invalid_input"
