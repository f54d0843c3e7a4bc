"""TOML for the ``[[accounts]]`` of a test configuration: one account on a Dovecot user's
mailbox, with the user's aiosmtpd when given. The wire tests (``tests/mcp``, ``tests/hostile``)
write their configuration files from it, each adding the tables it tests."""

from __future__ import annotations

from tests.support.dovecot import DovecotServer
from tests.support.smtpd import SmtpTestServer


def smtp_table(smtp: SmtpTestServer, user: str) -> str:
    """``[accounts.smtp]`` for ``user`` on ``smtp`` (its certificate trusted)."""
    s = smtp.smtp_settings(user)
    return f"""[accounts.smtp]
host = "{s.host}"
port = {s.port}
username = "{user}"
tls = "{s.tls}"
ca_file = "{s.ca_file}"
"""


def account_toml(
    name: str,
    server: DovecotServer,
    user: str,
    *,
    posture: str,
    keys: str = "",
    smtp: SmtpTestServer | None = None,
    tables: str = "",
) -> str:
    """One ``[[accounts]]`` named ``name`` on ``user``'s mailbox (address
    ``user@wire.example``, the Dovecot CA trusted), with more top-level ``keys``, the SMTP
    table when ``smtp`` is given, then ``tables`` (``[accounts.limits]`` ...) as written."""
    imap = server.imap_settings(user)
    text = f"""
[[accounts]]
name = "{name}"
address = "{user}@wire.example"
posture = "{posture}"
{keys}[accounts.imap]
host = "{imap.host}"
port = {imap.port}
username = "{user}"
ca_file = "{imap.ca_file}"
"""
    if smtp is not None:
        text += smtp_table(smtp, user)
    return text + tables


def wire_tables(*, calls_per_second: float = 100.0, burst: int = 100) -> str:
    """``[accounts.folders]`` with Junk and Scratch expungeable, then ``[accounts.limits]``
    high enough that a wire test meets them only when it means to (lines appended to the
    text go into ``[accounts.limits]``)."""
    return f"""[accounts.folders]
expunge_allowed = ["Junk", "Scratch"]
[accounts.limits]
calls_per_second = {calls_per_second}
burst = {burst}
"""


#: no tool needs a human's yes (confirmation is tested in tests/mcp/test_confirm_*.py)
NO_CONFIRMATION = "[accounts.confirm]\ntools = []\n"
