"""The auth cooldown ends when the stored credential changes (issue 15): after a refused
password the account is paused (60 s by default); storing the right one (what
``mailguard-mcp login`` does) makes the next call go through at once, against the real
Dovecot through the composition root, the gate and the IMAP adapter."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailguard_core.adapters.memory_audit import InMemoryAuditSink
from mailguard_core.adapters.memory_secrets import InMemorySecretStore
from mailguard_core.app.bootstrap import open_app
from mailguard_core.config import AccountConfig, Config
from mailguard_core.gate.breaker import BreakerState, CircuitBreaker
from mailguard_core.model.errors import AuthenticationFailed, CircuitOpen
from mailguard_core.model.tools import Posture
from mailguard_core.ports.secrets import Secret
from tests.support.dovecot import DovecotServer


def test_lift_auth_ends_only_an_auth_cooldown() -> None:
    breaker = CircuitBreaker()
    breaker.on_failure("auth", 0.0, probe=False)
    assert breaker.auth_open and breaker.state(1.0) is BreakerState.OPEN
    assert breaker.lift_auth(1.0) is True
    assert breaker.before_call(1.0) is True  # the probe
    breaker.on_success(1.5, probe=True)
    assert breaker.state(1.5) is BreakerState.CLOSED and not breaker.auth_open

    transient = CircuitBreaker()
    for t in range(5):
        transient.on_failure("transient", float(t), probe=False)
    assert transient.state(5.0) is BreakerState.OPEN
    assert transient.lift_auth(5.0) is False
    assert transient.state(5.0) is BreakerState.OPEN


@pytest.mark.dovecot
def test_a_fixed_password_works_at_once_after_an_auth_failure(
    dovecot: DovecotServer, tmp_path: Path
) -> None:
    user, password = dovecot.add_user()
    account = AccountConfig(
        name="me",
        address=f"{user}@example.org",
        posture=Posture.READONLY,
        imap=dovecot.imap_settings(user),
    )
    secrets = InMemorySecretStore({"me": "wrong"})
    config = Config(accounts=(account,))
    with open_app(config, secrets=secrets, audit=InMemoryAuditSink()) as app:
        with pytest.raises(AuthenticationFailed):
            app.call("list_folders", {})
        with pytest.raises(CircuitOpen):  # paused: the same wrong password is not retried
            app.call("list_folders", {})
        secrets.set("me", Secret(password))  # what `mailguard-mcp login me` does
        result = app.call("list_folders", {})
        assert result is not None
        # and a second refusal pauses again (the lift is per change, not a switch-off)
        secrets.set("me", Secret("wrong-again"))
        app.service("me").close()  # drop the connection so the next call logs in again
        with pytest.raises(AuthenticationFailed):
            app.call("list_folders", {})
        with pytest.raises(CircuitOpen):
            app.call("list_folders", {})
