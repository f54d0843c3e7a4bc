"""Helpers of the hostile-caller suite's wire tests: a config file for ``mailguard-mcp serve``
against the session Dovecot (and optionally an aiosmtpd), and its environment."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from mailguard_core.ports.secrets import env_var_name
from tests.support.accounts import NO_CONFIRMATION, account_toml, wire_tables
from tests.support.dovecot import DovecotServer
from tests.support.smtpd import SmtpTestServer


def write_config(
    tmp_path: Path,
    server: DovecotServer,
    user: str,
    accounts: Sequence[tuple[str, str]],
    *,
    smtp: SmtpTestServer | None = None,
    breaker: Mapping[str, float] | None = None,
    burst: int = 100,
    calls_per_second: float = 100.0,
) -> Path:
    """A config with one account per ``(name, posture)``, all on ``user``'s mailbox."""
    blocks = []
    for name, posture in accounts:
        tables = wire_tables(calls_per_second=calls_per_second, burst=burst)
        tables += NO_CONFIRMATION
        if breaker:
            tables += "[accounts.breaker]\n" + "".join(f"{k} = {v}\n" for k, v in breaker.items())
        if smtp is None and posture in ("full", "destructive"):
            tables += '[accounts.tools]\ndeny = ["send_email"]\n'
        block = account_toml(name, server, user, posture=posture, smtp=smtp, tables=tables)
        blocks.append(block)
    first = accounts[0][0]
    text = f'default_account = "{first}"\n[audit]\npath = "{tmp_path / "audit.jsonl"}"\n'
    path = tmp_path / "mailguard.toml"
    path.write_text(text + "".join(blocks), encoding="utf-8")
    return path


def environment(tmp_path: Path, passwords: Mapping[str, str]) -> dict[str, str]:
    """The process environment: each account's password, no keyring, a private state dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILGUARD_")}
    env.update({env_var_name(name): password for name, password in passwords.items()})
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    return env
