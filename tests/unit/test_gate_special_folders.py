"""The gate learns an account's special-use folders itself: once, lazily, after the posture
check and the breaker, before the rate limiter, inside the audited call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from mailguard_core.adapters.memory_audit import InMemoryAuditSink
from mailguard_core.config import (
    AccountConfig,
    BreakerSettings,
    Config,
    FolderSettings,
    RateLimitSettings,
)
from mailguard_core.gate import FakeClock
from mailguard_core.model.errors import (
    AuthenticationFailed,
    CircuitOpen,
    ConnectionFailed,
    FolderProtected,
    MailguardError,
    RateLimited,
    ToolDenied,
)
from mailguard_core.model.tools import Posture
from mailguard_core.services.dispatch import ToolGate as Gate

SPECIALS = {"work": ["Gesendet", "Entwürfe"], "home": ["Sent Items"]}


class CountingProvider:
    """Answers from SPECIALS, or raises ``fail`` while it is set; counts every question."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.fail: MailguardError | None = None

    def __call__(self, account: str) -> Iterable[str]:
        self.asked.append(account)
        if self.fail is not None:
            raise self.fail
        return iter(SPECIALS[account])


def make_gate(
    *, threshold: int = 5, burst: int = 100, posture: Posture = Posture.DESTRUCTIVE
) -> tuple[Gate, InMemoryAuditSink, FakeClock, CountingProvider]:
    accounts = tuple(
        AccountConfig(
            name=name,
            address=f"me@{name}.example",
            posture=posture,
            folders=FolderSettings(protected=("Keep",), expunge_allowed=("Scratch",)),
            limits=RateLimitSettings(calls_per_second=1.0, burst=burst),
            breaker=BreakerSettings(failure_threshold=threshold),
        )
        for name in ("work", "home")
    )
    sink, clock, provider = InMemoryAuditSink(), FakeClock(), CountingProvider()
    gate = Gate.from_config(Config(accounts=accounts), sink, clock=clock, special_folders=provider)
    return gate, sink, clock, provider


def call(gate: Gate, tool: str, account: str, args: Mapping[str, Any]) -> None:
    with gate.guard(tool, account, args):
        pass


def rename(old: str, new: str = "Elsewhere") -> dict[str, str]:
    return {"folder": old, "new_name": new}


def open_breaker(gate: Gate, account: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(ConnectionFailed), gate.guard("search", account, {}):
            raise ConnectionFailed("refused")


def test_the_folders_the_provider_reports_become_protected() -> None:
    """The first rename of the server's Sent folder (by another name) is already refused."""
    gate, sink, _, provider = make_gate()
    with pytest.raises(FolderProtected):
        call(gate, "rename_folder", "work", rename("Gesendet"))
    with pytest.raises(FolderProtected):
        call(gate, "create_folder", "work", {"name": "ENTWÜRFE"})
    call(gate, "rename_folder", "work", rename("Projects"))
    assert provider.asked == ["work"]
    assert [e["outcome"] for e in sink.of_kind("call_end")] == ["refused", "refused", "ok"]


def test_a_call_refused_by_the_open_breaker_never_asks_the_provider() -> None:
    """With the breaker open, folder tools are refused as circuit_open before any learning."""
    gate, sink, clock, provider = make_gate(threshold=2)
    open_breaker(gate, "work", 2)
    for tool, args in (
        ("rename_folder", rename("Gesendet")),
        ("create_folder", {"name": "New"}),
        ("delete_folder", {"folder": "Scratch"}),
    ):
        with pytest.raises(CircuitOpen):
            call(gate, tool, "work", args)
    assert provider.asked == []
    assert [e["code"] for e in sink.of_kind("call_end")[-3:]] == ["circuit_open"] * 3
    clock.advance(15.0)
    call(gate, "create_folder", "work", {"name": "New"})  # the probe learns, passes, closes
    assert provider.asked == ["work"]


def test_a_call_denied_by_the_posture_never_asks_the_provider() -> None:
    """Denied tools, unknown accounts and a readonly posture are refused without learning."""
    gate, _, _, provider = make_gate(posture=Posture.READONLY)
    for tool, account, args in (
        ("rename_folder", "work", rename("Gesendet")),
        ("delete_folder", "home", {"folder": "Scratch"}),
        ("create_folder", "ghost", {"name": "New"}),
        ("Create_folder", "work", {"name": "New"}),
    ):
        with pytest.raises(ToolDenied):
            call(gate, tool, account, args)
    assert provider.asked == []


def test_the_provider_is_asked_once_per_account_across_calls() -> None:
    """Many folder calls on two accounts ask each account once; other tools never ask."""
    gate, _, _, provider = make_gate()
    call(gate, "search", "work", {})
    call(gate, "expunge", "work", {"message_refs": ["work:Scratch:1:1"]})
    call(gate, "mark_read", "work", {"message_refs": ["work:INBOX:1:1"]})
    assert provider.asked == []
    for i in range(5):
        call(gate, "create_folder", "work", {"name": f"W{i}"})
        call(gate, "rename_folder", "home", rename(f"H{i}", f"H{i}b"))
        with pytest.raises(FolderProtected):
            call(gate, "delete_folder", "home", {"folder": "Sent Items"})
    assert provider.asked == ["work", "home"]


def test_a_call_refused_on_inbox_or_a_configured_folder_never_asks_the_provider() -> None:
    """What the gate can refuse without the server's folders it refuses without asking."""
    gate, _, _, provider = make_gate()
    for tool, args in (
        ("rename_folder", rename("INBOX")),
        ("create_folder", {"name": "keep"}),
        ("delete_folder", {"folder": "NotAllowlisted"}),
    ):
        with pytest.raises(FolderProtected):
            call(gate, tool, "work", args)
    assert provider.asked == []


def test_set_special_folders_counts_as_learned_and_the_provider_is_not_asked() -> None:
    """Folders set by the caller replace learning for that account."""
    gate, _, _, provider = make_gate()
    gate.set_special_folders("work", ["Outbox"])
    with pytest.raises(FolderProtected):
        call(gate, "rename_folder", "work", rename("Outbox"))
    call(gate, "rename_folder", "work", rename("Gesendet"))  # the provider's name: not known
    assert provider.asked == []


def test_without_a_provider_only_inbox_and_configured_folders_are_protected() -> None:
    """A gate built without a provider (or with it removed) never learns."""
    gate, _, _, provider = make_gate()
    gate.set_special_folders_provider(None)
    call(gate, "rename_folder", "work", rename("Gesendet"))
    assert provider.asked == []


def test_a_provider_failure_is_audited_counted_by_the_breaker_and_retried_later() -> None:
    """The learning error is the call's error: end record, breaker count, raised as itself;
    the next admitted call asks again."""
    gate, sink, clock, provider = make_gate(threshold=2)
    provider.fail = ConnectionFailed("connect to 10.0.0.9:993 refused")
    for _ in range(2):
        with pytest.raises(ConnectionFailed):
            call(gate, "rename_folder", "work", rename("Gesendet"))
    start, end = sink.of_kind("call_start")[-1], sink.of_kind("call_end")[-1]
    assert end["start_seq"] == start["seq"] and start["tool"] == "rename_folder"
    assert (end["outcome"], end["code"]) == ("error", "connection_failed")
    assert "10.0.0.9" in end["detail"]
    with pytest.raises(CircuitOpen):  # two transient failures opened the breaker
        call(gate, "search", "work", {})
    assert provider.asked == ["work", "work"]
    provider.fail = None
    clock.advance(15.0)
    with pytest.raises(FolderProtected):  # the probe learns; the refusal frees the slot
        call(gate, "rename_folder", "work", rename("Gesendet"))
    call(gate, "search", "work", {})
    assert provider.asked == ["work"] * 3


def test_an_auth_failure_while_learning_opens_the_breaker_at_once() -> None:
    """A login failure of the provider counts like one of the body: the account pauses."""
    gate, _, _, provider = make_gate()
    provider.fail = AuthenticationFailed("bad password")
    with pytest.raises(AuthenticationFailed):
        call(gate, "create_folder", "work", {"name": "New"})
    with pytest.raises(CircuitOpen) as info:
        call(gate, "create_folder", "work", {"name": "New"})
    assert info.value.retry_after == pytest.approx(60.0)
    provider.fail = None
    call(gate, "create_folder", "home", {"name": "New"})  # other accounts are unaffected
    assert provider.asked == ["work", "home"]


def test_a_failing_probe_reopens_the_breaker_with_a_doubled_cooldown() -> None:
    """A half-open probe whose learning fails counts as the probe's failure."""
    gate, _, clock, provider = make_gate(threshold=1)
    open_breaker(gate, "work", 1)
    clock.advance(15.0)
    provider.fail = ConnectionFailed("still down")
    with pytest.raises(ConnectionFailed):
        call(gate, "create_folder", "work", {"name": "New"})
    with pytest.raises(CircuitOpen) as info:
        call(gate, "search", "work", {})
    assert info.value.retry_after == pytest.approx(30.0)


def test_learning_comes_before_the_limiter_and_a_refused_call_takes_no_tokens() -> None:
    """With an empty bucket the folder guard still runs (and learns) before the limiter
    refuses; folder refusals and provider failures leave the bucket untouched."""
    gate, _, _, provider = make_gate(burst=1)
    provider.fail = ConnectionFailed("down")
    with pytest.raises(ConnectionFailed):
        call(gate, "create_folder", "work", {"name": "A"})
    provider.fail = None
    with pytest.raises(FolderProtected):
        call(gate, "create_folder", "work", {"name": "gesendet"})
    call(gate, "create_folder", "work", {"name": "A"})  # the one token
    with pytest.raises(FolderProtected):  # guard before limiter: protected, not rate-limited
        call(gate, "rename_folder", "work", rename("Gesendet"))
    with pytest.raises(RateLimited):
        call(gate, "create_folder", "work", {"name": "B"})
    assert provider.asked == ["work", "work"]
