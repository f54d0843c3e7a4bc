"""The Gate service: check order, identical refusals, audit records, breaker and limiter wiring."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import pytest

from mailguard_core.adapters.memory_audit import InMemoryAuditSink
from mailguard_core.config import (
    AccountConfig,
    BreakerSettings,
    Config,
    FolderSettings,
    RateLimitSettings,
    ToolOverrides,
)
from mailguard_core.gate import FakeClock
from mailguard_core.gate.audit import verify_chain
from mailguard_core.model.errors import (
    AuditError,
    AuthenticationFailed,
    CircuitOpen,
    ConfigError,
    ConnectionFailed,
    FolderProtected,
    InputError,
    MessageNotFound,
    RateLimited,
    ToolDenied,
)
from mailguard_core.model.tools import INFRASTRUCTURE_TOOLS, Posture, ToolName
from mailguard_core.services.dispatch import ToolGate as Gate


def make_gate(
    *accounts: AccountConfig, clock: FakeClock | None = None
) -> tuple[Gate, InMemoryAuditSink, FakeClock]:
    sink = InMemoryAuditSink()
    clock = clock or FakeClock()
    if not accounts:
        accounts = (
            AccountConfig(name="work", address="me@work.example", posture=Posture.FULL),
            AccountConfig(name="home", address="me@home.example", posture=Posture.READONLY),
        )
    return Gate.from_config(Config(accounts=accounts), sink, clock=clock), sink, clock


def call(gate: Gate, tool: str, account: str | None, args: Mapping[str, Any] | None = None) -> None:
    with gate.guard(tool, account, args or {}):
        pass


def test_an_allowed_call_writes_a_start_and_an_end_record_linked_by_seq() -> None:
    """A passing call produces call_start then call_end naming it, with the result summary."""
    gate, sink, clock = make_gate()
    with gate.guard("search", "work", {"folder": "INBOX", "limit": 5}) as c:
        clock.advance(0.25)
        c.set_result({"count": 3})
    start, end = sink.records
    assert start["kind"] == "call_start" and start["tool"] == "search"
    assert start["account"] == "work"
    assert start["args"] == {"folder": "INBOX", "limit": 5}
    assert end["kind"] == "call_end" and end["start_seq"] == start["seq"]
    assert end["outcome"] == "ok" and end["result"] == {"count": 3} and end["ms"] == 250.0


def test_unknown_tools_unknown_accounts_and_denied_tools_get_the_same_refusal() -> None:
    """The public message does not reveal whether the tool, the account or the posture refused."""
    gate, sink, _ = make_gate()
    messages = set()
    for tool, account in [
        ("send_email", "home"),  # denied by posture
        ("Send_email", "work"),  # unknown spelling
        ("send_email", "nobody"),  # unknown account
        ("send_email", None),  # no account
        ("shell", "work"),  # unknown tool
    ]:
        with pytest.raises(ToolDenied) as info:
            call(gate, tool, account)
        messages.add(info.value.public_message)
    assert messages == {"this tool is not available"}
    ends = sink.of_kind("call_end")
    assert [e["code"] for e in ends] == ["tool_denied"] * 5
    assert all(e["outcome"] == "refused" for e in ends)
    assert sink.of_kind("call_start")[1]["requested_tool"] == "Send_email"


def test_infrastructure_tools_need_no_account_and_are_never_limited() -> None:
    """list_accounts and use_account pass without an account, any number of times."""
    gate, sink, _ = make_gate()
    for _ in range(100):
        call(gate, "list_accounts", None)
        call(gate, "use_account", None, {"account": "home"})
    assert {e["outcome"] for e in sink.of_kind("call_end")} == {"ok"}


def test_allowed_tools_follow_the_posture_and_overrides_of_each_account() -> None:
    """allowed_tools gives each account's set; an unknown account gets infrastructure only."""
    gate, _, _ = make_gate(
        AccountConfig(
            name="a",
            address="a@x.example",
            posture=Posture.READONLY,
            tools=ToolOverrides(allow=("create_draft",), deny=("download_attachment",)),
        )
    )
    tools = gate.allowed_tools("a")
    assert ToolName.CREATE_DRAFT in tools and ToolName.DOWNLOAD_ATTACHMENT not in tools
    assert gate.allowed_tools("zzz") == INFRASTRUCTURE_TOOLS
    assert gate.is_allowed("create_draft", "a") and not gate.is_allowed("send_email", "a")


def test_an_error_in_the_body_is_recorded_and_re_raised() -> None:
    """The end record carries the error code and detail; the caller sees the same exception."""
    gate, sink, _ = make_gate()
    with pytest.raises(MessageNotFound), gate.guard("fetch_message", "work", {}):
        raise MessageNotFound("uid 7 gone")
    end = sink.records[-1]
    assert (end["outcome"], end["code"], end["detail"]) == (
        "error",
        "message_not_found",
        "uid 7 gone",
    )


def test_a_non_mailguard_exception_is_recorded_without_its_message() -> None:
    """A bug in the body is logged as internal_error with the class name only, and re-raised."""
    gate, sink, _ = make_gate()
    with pytest.raises(KeyError), gate.guard("search", "work", {}):
        raise KeyError("secret-ish text")
    end = sink.records[-1]
    assert (end["code"], end["detail"]) == ("internal_error", "KeyError")
    assert "secret-ish" not in json.dumps(sink.records)


def test_transient_backend_errors_open_the_breaker_and_refusals_are_recorded() -> None:
    """Five connection failures open the account's breaker; the next call is refused."""
    gate, sink, clock = make_gate()
    for _ in range(5):
        with pytest.raises(ConnectionFailed), gate.guard("search", "work", {}):
            raise ConnectionFailed("refused")
    with pytest.raises(CircuitOpen) as info:
        call(gate, "search", "work")
    assert info.value.retry_after == pytest.approx(15.0)
    assert sink.records[-1]["code"] == "circuit_open"
    assert sink.records[-1]["retry_after"] == 15.0
    call(gate, "search", "home")  # other accounts are unaffected
    clock.advance(15.0)
    call(gate, "search", "work")  # the probe succeeds and closes
    call(gate, "search", "work")


def test_an_auth_failure_opens_the_breaker_at_once() -> None:
    """One AuthenticationFailed pauses the account for the auth cooldown."""
    gate, _, clock = make_gate()
    with pytest.raises(AuthenticationFailed), gate.guard("search", "work", {}):
        raise AuthenticationFailed("bad password")
    with pytest.raises(CircuitOpen):
        call(gate, "search", "work")
    clock.advance(60.0)
    call(gate, "search", "work")


def test_input_errors_and_not_found_never_count_towards_the_breaker() -> None:
    """Fifty non-counting errors within the window leave the breaker closed."""
    account = AccountConfig(name="work", address="w@x.example", limits=RateLimitSettings(burst=100))
    gate, _, _ = make_gate(account)
    for _ in range(25):
        with pytest.raises(MessageNotFound), gate.guard("search", "work", {}):
            raise MessageNotFound("x")
        with pytest.raises(InputError), gate.guard("search", "work", {}):
            raise InputError("x")
    call(gate, "search", "work")


def test_the_posture_check_comes_before_the_breaker_and_the_limiter() -> None:
    """A denied tool is refused as denied even when the breaker is open or the bucket empty."""
    gate, _, _ = make_gate()
    for _ in range(5):
        with pytest.raises(ConnectionFailed), gate.guard("search", "work", {}):
            raise ConnectionFailed("x")
    with pytest.raises(ToolDenied):
        call(gate, "expunge", "work", {"message_refs": ["work:INBOX:1:1"]})


def test_folder_refusals_come_before_the_limiter_and_take_no_tokens() -> None:
    """Refused create_folder calls do not use up the account's rate limit."""
    account = AccountConfig(
        name="w",
        address="w@x.example",
        posture=Posture.FULL,
        limits=RateLimitSettings(calls_per_second=1.0, burst=2),
    )
    gate, _, _ = make_gate(account)
    for _ in range(10):
        with pytest.raises(FolderProtected):
            call(gate, "create_folder", "w", {"name": "inbox"})
    call(gate, "create_folder", "w", {"name": "A"})
    call(gate, "create_folder", "w", {"name": "B"})
    with pytest.raises(RateLimited):
        call(gate, "create_folder", "w", {"name": "C"})


def test_a_probe_refused_by_the_limiter_does_not_block_the_next_probe() -> None:
    """The half-open slot is released when the rate limiter refuses the probe."""
    account = AccountConfig(
        name="w",
        address="w@x.example",
        posture=Posture.FULL,
        limits=RateLimitSettings(tools={"send_email": "1/h"}),
        breaker=BreakerSettings(failure_threshold=1),
    )
    gate, _, clock = make_gate(account)
    with pytest.raises(ConnectionFailed), gate.guard("send_email", "w", {}):
        raise ConnectionFailed("x")
    clock.advance(15.0)
    with pytest.raises(RateLimited):
        call(gate, "send_email", "w")
    call(gate, "search", "w")  # probes, succeeds, closes
    call(gate, "search", "w")


def test_special_folders_reported_by_the_server_become_protected() -> None:
    """After set_special_folders, renaming the server's Sent folder is refused."""
    gate, _, _ = make_gate()
    call(gate, "rename_folder", "work", {"folder": "Outbox", "new_name": "Outbox2"})
    gate.set_special_folders("work", ["Outbox"])
    with pytest.raises(FolderProtected):
        call(gate, "rename_folder", "work", {"folder": "Outbox", "new_name": "Outbox3"})
    with pytest.raises(InputError):
        gate.set_special_folders("nobody", ["X"])


def test_message_refs_of_another_account_are_refused() -> None:
    """Refs must name the account the gate checked, so a lax caller cannot borrow a posture."""
    gate, _, _ = make_gate()
    with pytest.raises(InputError):
        call(gate, "mark_read", "work", {"message_refs": ["work:INBOX:1:1", "home:INBOX:1:2"]})
    with pytest.raises(InputError):
        call(gate, "fetch_message", "work", {"message_ref": "home:INBOX:1:2"})
    call(gate, "mark_read", "work", {"message_refs": ["work:INBOX:1:1"]})


def test_arguments_are_redacted_in_the_audit_log() -> None:
    """Bodies and subjects become lengths, recipients pseudonyms, unknown fields '[redacted]'."""
    gate, sink, _ = make_gate()
    args = {
        "to": ["Alice@Example.org "],
        "bcc": ["carol@example.org"],
        "subject": "Quarterly numbers",
        "body": "the secret plan",
        "password": "hunter2",
        "in_reply_to": "work:INBOX:5:9",
    }
    call(gate, "send_email", "work", args)
    logged = sink.records[0]["args"]
    assert logged["subject"] == {"len": 17} and logged["body"] == {"len": 15}
    assert logged["password"] == "[redacted]" and logged["in_reply_to"] == "work:INBOX:5:9"
    assert logged["to"] == [sink.pseudonymize("alice@example.org")]
    text = json.dumps(sink.records)
    for secret in ("hunter2", "secret plan", "Quarterly", "alice", "carol"):
        assert secret not in text


def test_an_audit_failure_refuses_the_call_before_the_body_runs() -> None:
    """When the start record cannot be written the call fails closed."""
    gate, sink, _ = make_gate()
    sink.close()
    ran = []
    with pytest.raises(AuditError), gate.guard("search", "work", {}):
        ran.append(True)
    assert ran == []


def test_the_guard_works_around_an_await() -> None:
    """The guard is a plain context manager that can wrap awaited work, and records cancellation."""
    gate, sink, _ = make_gate()

    async def tool() -> None:
        with gate.guard("search", "work", {}) as c:
            await asyncio.sleep(0)
            c.set_result({"n": 1})

    async def cancelled() -> None:
        with gate.guard("search", "work", {}):
            raise asyncio.CancelledError

    asyncio.run(tool())
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(cancelled())
    assert [e["outcome"] for e in sink.of_kind("call_end")] == ["ok", "cancelled"]


def test_the_in_memory_log_of_a_gate_verifies_as_an_intact_chain() -> None:
    """Records written through the gate form a chain that verify_chain accepts."""
    gate, sink, _ = make_gate()
    for tool in ("search", "nope", "send_email"):
        try:
            call(gate, tool, "work")
        except ToolDenied:
            pass
    data = ("\n".join(sink.lines) + "\n").encode()
    report = verify_chain(["mem"], lambda _: data)
    assert report.ok and report.records == 6


def test_duplicate_account_names_are_a_config_error() -> None:
    """Two accounts with one name cannot be gated."""
    a = AccountConfig(name="a", address="a@x.example")
    with pytest.raises(ConfigError, match="duplicate"):
        make_gate(a, a)


def test_folder_list_contradictions_cannot_reach_the_gate() -> None:
    """Folder lists are checked when they are built, so the gate never sees a contradiction
    (it trusts its settings)."""
    with pytest.raises(ConfigError, match=r"expunge_allowed\[0\]: INBOX is always protected"):
        FolderSettings(expunge_allowed=("INBOX",))


def test_a_probe_that_crashes_with_a_bug_frees_the_probe_slot() -> None:
    """A non-mailguard exception in the probe proves nothing: the next call may probe."""
    account = AccountConfig(
        name="w", address="w@x.example", breaker=BreakerSettings(failure_threshold=1)
    )
    gate, _, clock = make_gate(account)
    with pytest.raises(ConnectionFailed), gate.guard("search", "w", {}):
        raise ConnectionFailed("x")
    clock.advance(15.0)
    with pytest.raises(ZeroDivisionError), gate.guard("search", "w", {}):
        raise ZeroDivisionError
    call(gate, "search", "w")
