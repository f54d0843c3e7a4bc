"""OAuth2 end to end over the wire: ``mailguard-mcp serve`` as a subprocess with an account that
signs in to a real Dovecot (oauth2 passdb, introspection) and a real aiosmtpd (AUTH
OAUTHBEARER) with tokens from the local authlib authorization server; the refresh token comes
from ``MAILGUARD_<ACCOUNT>_REFRESH_TOKEN``. Then the grant is revoked: the tool result is
``auth_failed`` telling to run ``login``, the breaker opens, and no token or secret appears in
stderr (DEBUG), the audit log or any tool result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from mcp import Client, StdioServerParameters
from tests.mcp.harness import plain_message, structured
from tests.support.dovecot import DovecotServer, dovecot_available, start_dovecot
from tests.support.oauth_server import LocalAuthorizationServer
from tests.support.smtpd import SmtpTestServer, smtpd_certificate, start_smtpd  # noqa: F401

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.dovecot,
    pytest.mark.skipif(not dovecot_available(), reason="dovecot is not on PATH"),
]

USER = "carol"


@pytest.fixture
def auth_server() -> Iterator[LocalAuthorizationServer]:
    server = LocalAuthorizationServer(user=USER, rotate=True).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def imap(tmp_path: Path, auth_server: LocalAuthorizationServer) -> Iterator[DovecotServer]:
    server = start_dovecot(
        tmp_path / "dovecot", oauth_introspection_url=auth_server.url + "/introspect"
    )
    server.add_user(USER, "unused-password")
    server.deliver(USER, "INBOX", plain_message("Lunch", "Noodles at 12?"))
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def smtp(
    tmp_path: Path,
    auth_server: LocalAuthorizationServer,
    smtpd_certificate: tuple[Path, Path],  # noqa: F811
) -> Iterator[SmtpTestServer]:
    server = start_smtpd(
        tmp_path / "smtp", certificate=smtpd_certificate, oauth=auth_server.user_of
    )
    try:
        yield server
    finally:
        server.stop()


def _config(
    tmp_path: Path, imap: DovecotServer, smtp: SmtpTestServer, auth: LocalAuthorizationServer
) -> Path:
    table = auth.oauth_table()
    scopes = ", ".join(f'"{s}"' for s in table["scopes"])
    text = f"""
[audit]
path = "{tmp_path / "audit.jsonl"}"

[[accounts]]
name = "cloud"
address = "{USER}@cloud.example"
posture = "full"
[accounts.imap]
host = "127.0.0.1"
port = {imap.imaps_port}
username = "{USER}"
ca_file = "{imap.cert_path}"
auth = "oauth2"
[accounts.smtp]
host = "127.0.0.1"
port = {smtp.port}
tls = "starttls"
username = "{USER}"
ca_file = "{smtp.cert_path}"
auth = "oauth2"
[accounts.oauth]
provider = "custom"
client_id = "{table["client_id"]}"
authorization_url = "{table["authorization_url"]}"
token_url = "{table["token_url"]}"
device_authorization_url = "{table["device_authorization_url"]}"
scopes = [{scopes}]
[accounts.limits]
calls_per_second = 100.0
burst = 100
[accounts.confirm]
tools = []
"""
    path = tmp_path / "mailguard.toml"
    path.write_text(text)
    return path


def _environment(tmp_path: Path, refresh_token: str) -> dict[str, str]:
    return {
        **os.environ,
        "MAILGUARD_CLOUD_REFRESH_TOKEN": refresh_token,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }


async def test_an_oauth_account_works_over_stdio_and_a_revoked_grant_is_auth_failed(
    tmp_path: Path,
    auth_server: LocalAuthorizationServer,
    imap: DovecotServer,
    smtp: SmtpTestServer,
) -> None:
    """search and send_email sign in with OAUTHBEARER; after revocation: auth_failed with the
    login advice, then circuit_open; no issued secret anywhere mailguard writes."""
    refresh = auth_server.grant(USER)
    config = _config(tmp_path, imap, smtp, auth_server)
    stderr = tmp_path / "stderr.log"
    command = (
        f"exec {sys.executable} -m mailguard_mcp serve --log-level DEBUG --config {config} "
        f"2> {stderr}"
    )
    params = StdioServerParameters(
        command="/bin/sh", args=["-c", command], env=_environment(tmp_path, refresh)
    )
    texts: list[str] = []
    with anyio.fail_after(60):
        async with Client(params, mode="legacy") as client:
            found = await client.call_tool("search", {"folder": "INBOX", "subject": "Lunch"})
            texts.append(json.dumps(structured(found)))
            sent = await client.call_tool(
                "send_email", {"to": ["bob@example.org"], "subject": "hi", "body": "hello"}
            )
            texts.append(json.dumps(structured(sent)))
            auth_server.revoke_grants()
            imap.restart()  # drops the signed-in connection: the next call signs in again
            refused = await client.call_tool("search", {"folder": "INBOX"})
            paused = await client.call_tool("search", {"folder": "INBOX"})
            texts += [json.dumps(structured(refused)), json.dumps(structured(paused))]
    assert structured(found)["meta"]["total"] == 1
    assert not sent.is_error and [m.login for m in smtp.messages] == [USER]
    assert smtp.oauth_logins == [("OAUTHBEARER", USER)]
    error = structured(refused)["error"]
    assert error["code"] == "auth_failed"
    assert "mailguard-mcp login cloud" in error["message"]
    assert structured(paused)["error"]["code"] == "circuit_open"
    log = imap.log_tail(400)
    assert f"user=<{USER}>, method=OAUTHBEARER" in log
    audit = (tmp_path / "audit.jsonl").read_text()
    err = stderr.read_text()
    assert "auth_failed" in audit
    secrets = auth_server.issued_secrets
    assert len(secrets) >= 4  # the client secret, the grant, two refreshes (rotated)
    for value in secrets:
        assert value not in audit, "a token in the audit log"
        assert value not in err, "a token on stderr"
        assert all(value not in text for text in texts), "a token in a tool result"


def test_dry_run_signs_in_with_oauth_and_says_how(
    tmp_path: Path,
    auth_server: LocalAuthorizationServer,
    imap: DovecotServer,
    smtp: SmtpTestServer,
) -> None:
    """``--dry-run`` names the OAuth provider, signs in with OAUTHBEARER, exits 0; with no
    refresh token it fails the account telling to run login."""
    refresh = auth_server.grant(USER)
    config = _config(tmp_path, imap, smtp, auth_server)
    command = [sys.executable, "-m", "mailguard_mcp", "--dry-run", "--config", str(config)]
    out = subprocess.run(
        command, capture_output=True, text=True, timeout=60, env=_environment(tmp_path, refresh)
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "auth: oauth2 for imap and smtp (provider custom" in out.stdout
    assert "MAILGUARD_CLOUD_REFRESH_TOKEN" in out.stdout
    assert "signed in with: OAUTHBEARER" in out.stdout
    missing = subprocess.run(
        command, capture_output=True, text=True, timeout=60, env=_environment(tmp_path, "")
    )
    assert missing.returncode == 1
    assert "run `mailguard-mcp login cloud`" in missing.stdout
    for value in auth_server.issued_secrets:
        assert value not in out.stdout + out.stderr + missing.stdout + missing.stderr
