"""``[server]`` configuration, principals resolved from token claims, and the gate's checks of
a principal (refused exactly like an unknown account or a denied tool; audited)."""

from __future__ import annotations

from typing import Any

import pytest

from mailguard_core.adapters.memory_audit import InMemoryAuditSink
from mailguard_core.config import ConfigValidationError, parse_config
from mailguard_core.gate.principals import resolve_principal
from mailguard_core.model.errors import ToolDenied
from mailguard_core.model.tools import ToolName
from mailguard_core.services.dispatch import ToolGate as Gate

BASE: dict[str, Any] = {
    "accounts": [
        {
            "name": "a",
            "address": "a@x.example",
            "maildir": "/tmp/a",
            "posture": "full",
            "tools": {"deny": ["send_email"]},
        },
        {
            "name": "b",
            "address": "b@x.example",
            "maildir": "/tmp/b",
            "posture": "full",
            "tools": {"deny": ["send_email"]},
        },
    ]
}
AUTH = {
    "issuer": "https://idp.example",
    "audience": "https://mail.example/mcp",
    "jwks_url": "https://idp.example/jwks",
}
OPAQUE = {k: v for k, v in AUTH.items() if k != "jwks_url"}


def _config(server: dict[str, Any]) -> Any:
    return parse_config({**BASE, "server": server})


def test_server_settings_parse_with_principals() -> None:
    config = _config(
        {
            "transport": "http",
            "host": "0.0.0.0",
            "auth": AUTH,
            "principals": [
                {"name": "ann", "subject": "ann", "accounts": ["a"]},
                {
                    "name": "ops",
                    "claim": "groups",
                    "value": "ops",
                    "accounts": ["a", "b"],
                    "posture": "readonly",
                },
            ],
        }
    )
    assert config.server.transport == "http"
    assert config.server.auth is not None and config.server.auth.audience == AUTH["audience"]
    assert [p.name for p in config.server.principals] == ["ann", "ops"]


@pytest.mark.parametrize(
    ("server", "problem"),
    [
        ({"transport": "carrier-pigeon"}, "server.transport"),
        ({"principals": [{"name": "x", "subject": "x", "accounts": ["a"]}]}, "need [server.auth]"),
        ({"auth": {**AUTH, "jwks_file": "/k"}}, "exactly one of jwks_url, jwks_file and"),
        (
            {"auth": {**OPAQUE, "introspection_url": "https://idp.example/i"}},
            "introspection_url needs the client_id",
        ),
        (
            {"auth": {**AUTH, "introspection_url": "https://idp.example/i", "client_id": "c"}},
            "exactly one of jwks_url, jwks_file and introspection_url",
        ),
        (
            {
                "auth": {
                    **OPAQUE,
                    "introspection_url": "http://idp.example/i",
                    "client_id": "c",
                }
            },
            "server.auth.introspection_url",
        ),
        ({"auth": {**AUTH, "algorithms": ["HS256"]}}, "asymmetric"),
        ({"auth": {**AUTH, "issuer": "http://idp.example"}}, "server.auth.issuer"),
        (
            {"auth": AUTH, "principals": [{"name": "x", "subject": "x", "accounts": ["zz"]}]},
            "no account named 'zz'",
        ),
        (
            {"auth": AUTH, "principals": [{"name": "x", "accounts": ["a"]}]},
            "either subject, or claim",
        ),
        (
            {
                "auth": AUTH,
                "principals": [
                    {"name": "x", "subject": "s", "claim": "g", "value": "v", "accounts": ["a"]}
                ],
            },
            "either subject",
        ),
        ({"max_sessions": 0}, "server.max_sessions"),
        ({"port": 70000}, "server.port"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_bad_server_settings_are_named(server: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        _config(server)
    assert problem in str(caught.value)


def _principals() -> Any:
    return _config(
        {
            "auth": AUTH,
            "principals": [
                {"name": "ann", "subject": "ann", "accounts": ["a"]},
                {
                    "name": "ops",
                    "claim": "groups",
                    "value": "ops",
                    "accounts": ["a", "b"],
                    "posture": "readonly",
                },
            ],
        }
    ).server.principals


def test_resolution_by_subject_by_claim_and_most_permissive_grant() -> None:
    entries = _principals()
    assert resolve_principal(entries, {"sub": "mallory"}) is None
    assert resolve_principal(entries, {"sub": "ANN"}) is None  # exact subjects only
    ann = resolve_principal(entries, {"sub": "ann"})
    assert ann is not None and ann.accounts == {"a"} and ann.ceilings["a"] is None
    ops = resolve_principal(entries, {"sub": "zed", "groups": ["x", "ops"]})
    assert ops is not None and ops.accounts == {"a", "b"}
    assert not ops.may_call(ToolName.MARK_READ, "a") and ops.may_call(ToolName.SEARCH, "b")
    spaced = resolve_principal(entries, {"sub": "zed", "groups": "x ops"})
    assert spaced is not None and spaced.accounts == {"a", "b"}
    both = resolve_principal(entries, {"sub": "ann", "groups": ["ops"]})
    assert both is not None and both.may_call(ToolName.MARK_READ, "a")  # ann's own grant
    assert not both.may_call(ToolName.MARK_READ, "b")  # b only through ops: readonly
    assert resolve_principal(entries, {"sub": "zed", "groups": "opsx"}) is None


def test_gate_refuses_outside_the_principal_like_an_unknown_account() -> None:
    config = parse_config(BASE)
    audit = InMemoryAuditSink()
    gate = Gate.from_config(config, audit)
    ann = resolve_principal(_principals(), {"sub": "ann"})
    ops = resolve_principal(_principals(), {"sub": "z", "groups": ["ops"]})
    refusals = []
    for account, principal, tool in (
        ("b", ann, "search"),
        ("nosuch", None, "search"),
        ("a", ops, "mark_read"),
    ):
        with (
            pytest.raises(ToolDenied) as caught,
            gate.guard(tool, account, {}, principal=principal),
        ):
            pass
        refusals.append(caught.value.public_message)
    assert len(set(refusals)) == 1
    with gate.guard("search", "a", {}, principal=ann):
        pass
    starts = [r for r in audit.records if r["kind"] == "call_start"]
    assert [r.get("principal") for r in starts] == ["ann:ann", None, "ops:z", "ann:ann"]


def test_two_gates_over_one_state_enforce_one_limit_and_share_one_breaker() -> None:
    """Two gates (replicas) over one GateState: the account's burst holds across both;
    failures through both add up in one breaker, which refuses in both; one probe for both."""
    from mailguard_core.adapters.memory_gate_state import InMemoryGateState
    from mailguard_core.gate.clock import FakeClock
    from mailguard_core.model.errors import CircuitOpen, ConnectionFailed, RateLimited

    data = {
        **BASE,
        "accounts": [{**BASE["accounts"][0], "limits": {"calls_per_second": 0.001, "burst": 3}}],
    }
    config = parse_config(data)
    clock = FakeClock()
    shared = InMemoryGateState(clock.monotonic)
    gates = [
        Gate.from_config(config, InMemoryAuditSink(), clock=clock, state=shared) for _ in range(2)
    ]
    outcomes = []
    for i in range(5):
        try:
            with gates[i % 2].guard("search", "a", {}):
                pass
            outcomes.append("ok")
        except RateLimited:
            outcomes.append("limited")
    assert outcomes == ["ok", "ok", "ok", "limited", "limited"]
    shared = InMemoryGateState(clock.monotonic)  # the breaker, with room in the buckets
    config = parse_config(BASE)
    gates = [
        Gate.from_config(config, InMemoryAuditSink(), clock=clock, state=shared) for _ in range(2)
    ]
    first, second = gates
    threshold = config.accounts[0].breaker.failure_threshold
    for i in range(threshold):  # alternately through each: no gate sees the threshold alone
        clock.advance(1.0)
        with pytest.raises(ConnectionFailed), gates[i % 2].guard("search", "a", {}):
            raise ConnectionFailed("down")
    for gate in gates:
        with pytest.raises(CircuitOpen), gate.guard("search", "a", {}):
            pass
    clock.advance(10_000.0)  # the cooldown ends: one probe, for both
    with (  # the probe through second; first is refused while it runs
        second.guard("search", "a", {}),
        pytest.raises(CircuitOpen),
        first.guard("search", "a", {}),
    ):
        pass
    with first.guard("search", "a", {}):  # the probe succeeded: closed for both
        pass
