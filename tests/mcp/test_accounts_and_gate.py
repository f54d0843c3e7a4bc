"""Accounts, switching, and the gate's refusals, through the real MCP client."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import mcp.types as types
import pytest

from mailguard_core.adapters.memory_store import InMemoryMailStore
from mailguard_core.model.errors import ConnectionFailed
from mailguard_core.model.tools import Posture
from mailguard_core.services.dispatch import describe
from mailguard_mcp.server import _admitted, _guarded_call
from mcp import Client
from tests.mcp.harness import account, breaker, limits, make_harness, structured

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_use_account_switches_the_tool_list_and_notifies_the_client(
    tmp_path: Path, mode: str
) -> None:
    """use_account changes the active account; tools/list follows its posture, on both
    protocol eras; a handshake-era client receives notifications/tools/list_changed."""
    h = make_harness(
        tmp_path, account("work", Posture.READONLY), account("home", Posture.DESTRUCTIVE)
    )
    notes: list[Any] = []

    async def on_message(message: Any) -> None:
        notes.append(message)

    async with Client(h.server(), mode=mode, message_handler=on_message) as client:
        before = {t.name for t in (await client.list_tools()).tools}
        switched = structured(await client.call_tool("use_account", {"account": "home"}))
        after = {t.name for t in (await client.list_tools()).tools}
        accounts = structured(await client.call_tool("list_accounts", {}))
    assert "expunge" not in before and "expunge" in after
    assert switched["meta"]["active"] == "home"
    assert switched["meta"]["posture"] == "destructive"
    assert accounts["meta"]["active"] == "home"
    assert [a["name"] for a in accounts["meta"]["accounts"]] == ["work", "home"]
    if mode == "legacy":
        assert any(isinstance(n, types.ToolListChangedNotification) for n in notes)


async def test_use_account_of_an_unknown_account_is_an_input_error(tmp_path: Path) -> None:
    """Switching to a name that is not configured fails and keeps the active account."""
    h = make_harness(tmp_path, account("work"))
    async with Client(h.server()) as client:
        result = await client.call_tool("use_account", {"account": "nobody"})
        accounts = structured(await client.call_tool("list_accounts", {}))
    assert result.is_error
    assert structured(result)["error"]["code"] == "invalid_input"
    assert accounts["meta"]["active"] == "work"


async def test_the_account_argument_is_checked_against_that_accounts_posture(
    tmp_path: Path,
) -> None:
    """A tool allowed on the active account is refused when aimed at a readonly account."""
    h = make_harness(
        tmp_path, account("work", Posture.FULL), account("home", Posture.READONLY), default="work"
    )
    async with Client(h.server()) as client:
        here = await client.call_tool("create_folder", {"name": "Projects"})
        there = await client.call_tool("create_folder", {"name": "Projects", "account": "home"})
        nowhere = await client.call_tool("list_folders", {"account": "ghost"})
    assert not here.is_error
    assert there.is_error and structured(there)["error"]["code"] == "tool_denied"
    assert nowhere.is_error and structured(nowhere)["error"]["code"] == "tool_denied"


async def test_a_message_ref_acts_on_the_account_it_names(tmp_path: Path) -> None:
    """A ref of a readonly account is refused for a flag tool even if the active one allows it."""
    h = make_harness(
        tmp_path, account("work", Posture.READONLY), account("home", Posture.FULL), default="home"
    )
    refs = h.seed("work")
    async with Client(h.server()) as client:
        result = await client.call_tool("mark_read", {"message_refs": [str(refs["plain"])]})
        read = await client.call_tool("fetch_message", {"message_ref": str(refs["plain"])})
    assert structured(result)["error"]["code"] == "tool_denied"
    assert not read.is_error


async def test_rate_limit_refusals_say_when_to_retry_and_cost_nothing(tmp_path: Path) -> None:
    """Over the burst the call is refused with rate_limited and a retry_after."""
    h = make_harness(tmp_path, account(limits=limits(0.001, 2)))
    async with Client(h.server()) as client:
        results = [await client.call_tool("list_folders", {}) for _ in range(3)]
    assert [bool(r.is_error) for r in results] == [False, False, True]
    error = structured(results[2])["error"]
    assert error["code"] == "rate_limited"
    assert error["retry_after"] > 0
    assert "retry after" in results[2].content[0].text


class _DownStore:
    """A store whose server is unreachable; records how often it was asked."""

    def __init__(self) -> None:
        self.calls = 0
        self.account = "work"

    def _fail(self, *_: Any, **__: Any) -> Any:
        self.calls += 1
        raise ConnectionFailed("connect to 10.1.2.3:993 refused (errno 111) password=hunter2")

    list_folders = search = search_raw = summaries = fetch = attachments = _fail
    fetch_part = get_flags = labels = set_flags = move = append = expunge = _fail
    create_folder = rename_folder = delete_folder = server_info = special_folders = _fail

    def close(self) -> None:
        pass


async def test_the_breaker_opens_after_repeated_failures_and_errors_stay_generic(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Connection failures reach the model as the public message only (the detail goes to
    the log and the audit log); after the threshold the breaker refuses without the store."""
    h = make_harness(tmp_path, account(breaker=breaker(3)))
    store = _DownStore()
    h.stores["work"] = store  # type: ignore[assignment]
    async with Client(h.server()) as client:
        results = [await client.call_tool("list_folders", {}) for _ in range(5)]
    codes = [structured(r)["error"]["code"] for r in results]
    assert codes == ["connection_failed"] * 3 + ["circuit_open"] * 2
    assert store.calls == 3
    for r in results:
        text = r.content[0].text
        assert "10.1.2.3" not in text and "hunter2" not in text and "errno" not in text
    ends = h.audit.of_kind("call_end")
    assert "10.1.2.3" in ends[0]["detail"]
    logged = [
        r for r in caplog.records if r.name == "mailguard_mcp" and "10.1.2.3" in r.getMessage()
    ]
    assert logged and all(r.levelname == "WARNING" for r in logged)


async def test_a_crash_inside_a_service_is_an_internal_error_without_details(
    tmp_path: Path,
) -> None:
    """A non-mailguard exception becomes a generic internal error (details only in logs)."""
    h = make_harness(tmp_path, account())

    class Broken(_DownStore):
        def _fail(self, *_: Any, **__: Any) -> Any:
            raise RuntimeError("secret internals")

        list_folders = _fail

    h.stores["work"] = Broken()  # type: ignore[assignment]
    async with Client(h.server()) as client:
        result = await client.call_tool("list_folders", {})
    assert result.is_error
    assert result.content[0].text == "error internal_error: internal error"
    assert "secret" not in str(result.structured_content)


async def test_a_denied_call_never_reaches_the_mail_server(tmp_path: Path) -> None:
    """Refusals happen before any store work (no connection for a denied folder tool)."""
    h = make_harness(tmp_path, account(posture=Posture.READONLY))
    store = _DownStore()
    h.stores["work"] = store  # type: ignore[assignment]
    async with Client(h.server()) as client:
        for name, arguments in (
            ("create_folder", {"name": "X"}),
            ("delete_folder", {"folder": "Junk"}),
            ("move_message", {"message_refs": ["work:INBOX:1:1"], "destination": "Junk"}),
        ):
            result = await client.call_tool(name, arguments)
            assert structured(result)["error"]["code"] == "tool_denied"
    assert store.calls == 0


class _CountingStore(InMemoryMailStore):
    """An in-memory server that counts how often it is asked for its special-use folders."""

    def __init__(self, account: str) -> None:
        super().__init__(account)
        self.special_asks = 0

    def special_folders(self) -> Mapping[str, str]:
        self.special_asks += 1
        return super().special_folders()


async def test_the_servers_special_use_folders_are_protected_and_learned_once(
    tmp_path: Path,
) -> None:
    """Renaming or deleting the server's Sent folder (named by the server, not the config),
    or shadowing it, is refused; the gate asks the server for its folders once."""
    h = make_harness(tmp_path, account(posture=Posture.DESTRUCTIVE))
    store = _CountingStore("work")
    store.add_folder("Sent")  # an ordinary folder on this server
    store.add_folder("Gesendet", special_use="\\Sent")
    store.add_folder("Scratch")
    h.stores["work"] = store
    async with Client(h.server()) as client:
        renamed = await client.call_tool("rename_folder", {"folder": "Gesendet", "new_name": "X"})
        deleted = await client.call_tool("delete_folder", {"folder": "Gesendet"})
        shadow = await client.call_tool("create_folder", {"name": "GESENDET"})
        fine = await client.call_tool("rename_folder", {"folder": "Scratch", "new_name": "Tmp"})
        folders = structured(await client.call_tool("list_folders", {}))
    for refused in (renamed, deleted, shadow):
        assert structured(refused)["error"]["code"] == "folder_protected"
    assert not fine.is_error
    names = {item["untrusted"]["exact_name"] for item in folders["items"]}
    assert {"Gesendet", "Tmp"} <= names and "X" not in names
    assert store.special_asks == 2  # the gate's one question, and list_folders' own


async def test_a_folder_call_refused_by_the_open_breaker_never_reaches_the_server(
    tmp_path: Path,
) -> None:
    """Once the breaker is open, folder tools are refused before any LIST is sent."""
    h = make_harness(tmp_path, account(breaker=breaker(2)))
    store = _DownStore()
    h.stores["work"] = store  # type: ignore[assignment]
    async with Client(h.server()) as client:
        for _ in range(2):
            await client.call_tool("list_folders", {})
        result = await client.call_tool("rename_folder", {"folder": "A", "new_name": "B"})
    assert structured(result)["error"]["code"] == "circuit_open"
    assert store.calls == 2


async def test_a_failure_while_learning_special_folders_is_the_calls_audited_error(
    tmp_path: Path,
) -> None:
    """An unreachable server fails the folder call itself (not silently): the client gets
    the public error, the audit log the detail, and the breaker counts it."""
    h = make_harness(tmp_path, account(breaker=breaker(1)))
    store = _DownStore()
    h.stores["work"] = store  # type: ignore[assignment]
    async with Client(h.server()) as client:
        first = await client.call_tool("create_folder", {"name": "Projects"})
        second = await client.call_tool("create_folder", {"name": "Projects"})
    assert structured(first)["error"]["code"] == "connection_failed"
    assert structured(second)["error"]["code"] == "circuit_open"
    assert store.calls == 1  # the special-folders question; create_folder never ran
    start, end = h.audit.of_kind("call_start")[0], h.audit.of_kind("call_end")[0]
    assert start["tool"] == "create_folder" and end["start_seq"] == start["seq"]
    assert end["code"] == "connection_failed" and "10.1.2.3" in end["detail"]


async def test_a_call_cancelled_before_admission_is_still_audited(tmp_path: Path) -> None:
    """The admission runs in a shielded worker thread: even an already-cancelled request
    writes its start record and ends as cancelled, never unaudited."""
    h = make_harness(tmp_path, account())
    with h.open() as app, anyio.CancelScope() as scope:
        scope.cancel()
        async with _admitted(app, describe("search", "work", {"folder": "INBOX"})):
            await anyio.lowlevel.checkpoint()
    assert scope.cancelled_caught
    start, end = h.audit.of_kind("call_start")[0], h.audit.of_kind("call_end")[0]
    assert start["tool"] == "search" and end["start_seq"] == start["seq"]
    assert end["outcome"] == "cancelled"


async def test_a_service_call_cancelled_before_it_starts_is_audited_and_never_runs(
    tmp_path: Path,
) -> None:
    """The one-hop service path keeps the guarantee: an already-cancelled request is admitted,
    ends as cancelled in the audit log, and its service call never touches the mailbox."""
    h = make_harness(tmp_path, account())
    ran: list[object] = []
    with h.open() as app, anyio.CancelScope() as scope:
        scope.cancel()
        await _guarded_call(app, describe("list_folders", "work", {}), ran.append)  # type: ignore[arg-type]
    assert scope.cancelled_caught
    assert ran == []
    start, end = h.audit.of_kind("call_start")[0], h.audit.of_kind("call_end")[0]
    assert start["tool"] == "list_folders" and end["start_seq"] == start["seq"]
    assert end["outcome"] == "cancelled"


async def test_a_service_call_cancelled_while_running_finishes_and_ends_as_cancelled(
    tmp_path: Path,
) -> None:
    """A worker thread cannot be abandoned: a request cancelled during its service call lets
    the call finish, then ends as cancelled in the audit log (as before the one-hop path)."""
    h = make_harness(tmp_path, account())
    ran: list[object] = []
    with h.open() as app, anyio.CancelScope() as scope:

        def call(service: object) -> dict[str, Any]:
            anyio.from_thread.run_sync(scope.cancel)
            ran.append(service)
            return {"meta": {}, "security_warnings": []}

        await _guarded_call(app, describe("list_folders", "work", {}), call)
    assert scope.cancelled_caught
    assert len(ran) == 1
    end = h.audit.of_kind("call_end")[0]
    assert end["outcome"] == "cancelled"
