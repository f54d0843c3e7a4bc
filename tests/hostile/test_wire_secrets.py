"""Hostile configuration and credentials (issue 12, items 7 and 8).

7. Account names whose secret-store entries map to one environment variable are refused at
   load time, naming both (and any that would read the audit HMAC key's variable).
8. Non-ASCII passwords log in with AUTHENTICATE PLAIN (RFC 4616, UTF-8) on IMAP and SMTP; a
   codec error's text (which names a character and its position) appears nowhere: not in an
   error, the stderr log, the audit log or ``--dry-run``; a refused one is an auth failure.
"""

from __future__ import annotations

import json
import string
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st
from imapclient import IMAPClient  # type: ignore[import-untyped]
from mcp.client.stdio import stdio_client

from mailguard_core.adapters.imap import ImapMailStore
from mailguard_core.adapters.keyring_secrets import EnvSecretStore
from mailguard_core.adapters.smtp import SmtpSender
from mailguard_core.config import AUDIT_HMAC_ENTRY, ConfigValidationError, parse_config
from mailguard_core.model.compose import Mailbox, compose
from mailguard_core.model.errors import AuthenticationFailed, MailguardError
from mailguard_core.ports.secrets import Secret, env_var_name
from mcp import Client, StdioServerParameters
from tests.hostile.wire_support import environment, write_config
from tests.support.dovecot import DovecotServer
from tests.support.smtpd import SmtpTestServer, smtpd_certificate, start_smtpd
from tests.support.tcp_proxy import TcpProxy

__all__ = ["smtpd_certificate"]

#: non-ASCII at several positions, Latin-1 and beyond (BMP and astral)
UMLAUT = "p\u00e4ss-w\u00f6rt-\u00fc7"
CJK = "\u5bc6\u7801-\U0001f511-k"
#: what a codec error would say: none of it may appear anywhere
LEAKS = ("can't encode", "codec", "position", "ordinal", "\\xe4", "\u00e4")


def _account(name: str) -> dict[str, Any]:
    return {"name": name, "address": "me@example.com", "maildir": "/tmp/none"}


# ---------------------------------------------------------------- 7: secret name collisions
@pytest.mark.parametrize(
    ("names", "a", "b"),
    [
        (["my-box", "my.box"], "my.box", "my-box"),
        (["my_box", "MY-BOX"], "MY-BOX", "my_box"),
        (["audit_hmac"], "audit_hmac", AUDIT_HMAC_ENTRY),
        (["audit.hmac"], "audit.hmac", AUDIT_HMAC_ENTRY),
        (["AUDIT-HMAC"], "AUDIT-HMAC", AUDIT_HMAC_ENTRY),
    ],
)
def test_accounts_sharing_a_secret_variable_are_refused_naming_both(
    names: list[str], a: str, b: str
) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        parse_config({"accounts": [_account(n) for n in names]})
    [problem] = [p for p in caught.value.problems if "share" in p]
    assert repr(a) in problem and repr(b) in problem
    assert env_var_name(a) in problem
    assert problem.startswith(f"accounts[{len(names) - 1}].name")


def test_the_environment_store_reads_exactly_the_variable_validation_compares() -> None:
    store = EnvSecretStore({env_var_name("my-box"): "pw"})
    assert store.get("my-box").reveal() == "pw"
    assert env_var_name("my-box") == "MAILGUARD_MY_BOX_PASSWORD"


_NAME = st.text(string.ascii_letters + string.digits + "_.-", min_size=1, max_size=12).filter(
    lambda n: n[0].isalnum()
)


@given(st.lists(_NAME, min_size=1, max_size=6))
def test_a_config_loads_exactly_when_no_two_entries_share_a_variable(names: list[str]) -> None:
    """Property: over arbitrary valid names, load succeeds iff the variables are distinct
    (exact duplicates and ``audit-hmac`` are refused too, for their own reasons)."""
    variables = [env_var_name(n) for n in [*names, AUDIT_HMAC_ENTRY]]
    distinct = len(set(variables)) == len(variables)
    try:
        config = parse_config({"accounts": [_account(n) for n in names]})
    except ConfigValidationError as exc:
        assert not distinct, exc.problems
        return
    assert distinct
    assert [a.name for a in config.accounts] == names


# ---------------------------------------------------------------- 8: non-ASCII passwords, IMAP
def _no_leak(*texts: str) -> None:
    for text in texts:
        for leak in LEAKS:
            assert leak not in text, (leak, text[:500])


def _errors_of(exc: MailguardError) -> str:
    return f"{exc}\n{exc.public_message}\n{exc!r}"


@pytest.mark.dovecot
@pytest.mark.parametrize("password", [UMLAUT, CJK])
def test_imap_logs_in_with_a_non_ascii_password(dovecot: DovecotServer, password: str) -> None:
    user, _ = dovecot.add_user(password=password)
    store = ImapMailStore("acct", dovecot.imap_settings(user), lambda: Secret(password))
    try:
        assert "INBOX" in {f.name for f in store.list_folders()}
    finally:
        store.close()


@pytest.mark.dovecot
def test_imap_sends_a_non_ascii_password_with_authenticate_plain_utf8(
    dovecot: DovecotServer,
) -> None:
    """On the wire: AUTHENTICATE PLAIN with base64 of ``\\0user\\0password`` in UTF-8, and
    never LOGIN; an ASCII password still uses LOGIN."""
    import base64

    user, _ = dovecot.add_user(password=UMLAUT)
    with TcpProxy(dovecot.host, dovecot.imap_port) as proxy:
        sent: list[bytes] = []
        proxy.on_client_data = sent.append
        store = ImapMailStore(
            "acct",
            dovecot.imap_settings(user, tls="starttls"),
            lambda: Secret(UMLAUT),
            client_factory=lambda: IMAPClient(dovecot.host, port=proxy.port, ssl=False, timeout=10),
        )
        try:
            store.list_folders()
        finally:
            store.close()
    wire = b"".join(sent)
    assert b"AUTHENTICATE PLAIN" in wire
    assert b" LOGIN " not in wire
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + UMLAUT.encode("utf-8"))
    assert token in wire


@pytest.mark.dovecot
def test_a_wrong_non_ascii_imap_password_is_an_auth_failure_without_its_characters(
    dovecot: DovecotServer,
) -> None:
    user, _ = dovecot.add_user(password="right")
    store = ImapMailStore("acct", dovecot.imap_settings(user), lambda: Secret(UMLAUT))
    with pytest.raises(AuthenticationFailed) as caught:
        store.list_folders()
    assert caught.value.breaker == "auth"
    _no_leak(_errors_of(caught.value))
    assert caught.value.__cause__ is None or not isinstance(caught.value.__cause__, UnicodeError)


class _NoPlain:
    """A client-like object offering LOGIN only (no AUTH=PLAIN)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def has_capability(self, name: str) -> bool:
        return False

    def login(self, user: str, password: str) -> None:  # pragma: no cover - must not be called
        self.calls.append("login")

    def plain_login(self, user: str, password: str) -> None:  # pragma: no cover
        self.calls.append("plain")


def test_non_ascii_credentials_without_auth_plain_are_refused_as_auth_not_protocol() -> None:
    from mailguard_core.adapters.imap_errors import imap_errors
    from mailguard_core.adapters.imap_support import imap_login

    client = _NoPlain()
    with pytest.raises(AuthenticationFailed) as caught, imap_errors("login"):
        imap_login(client, "me", UMLAUT)
    assert client.calls == []
    _no_leak(_errors_of(caught.value))


def test_a_codec_error_anywhere_in_imap_is_reported_without_its_text() -> None:
    from mailguard_core.adapters.imap_errors import imap_errors
    from mailguard_core.model.errors import InputError

    for action, expected in (("login", AuthenticationFailed), ("search", InputError)):
        with pytest.raises(expected) as caught, imap_errors(action):
            UMLAUT.encode("ascii")
        _no_leak(_errors_of(caught.value))
        assert caught.value.__cause__ is None


# ---------------------------------------------------------------- 8: non-ASCII passwords, SMTP
DATA = compose(
    sender=Mailbox(address="carl@example.com"), to=["bob@example.org"], subject="s", body="b"
).data


@pytest.fixture(params=["starttls", "implicit"])
def smtp_server(
    request: pytest.FixtureRequest, tmp_path: Path, smtpd_certificate: tuple[Path, Path]
) -> Iterator[SmtpTestServer]:
    srv = start_smtpd(
        tmp_path,
        mode=request.param,
        users={"carl": UMLAUT, "dora": CJK},
        certificate=smtpd_certificate,
    )
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.parametrize(("user", "password"), [("carl", UMLAUT), ("dora", CJK)])
def test_smtp_sends_with_a_non_ascii_password(
    smtp_server: SmtpTestServer, user: str, password: str
) -> None:
    sender = SmtpSender(smtp_server.smtp_settings(user), lambda: Secret(password))
    result = sender.send(
        envelope_from="carl@example.com", recipients=["bob@example.org"], data=DATA
    )
    assert result.accepted == ("bob@example.org",)
    [message] = smtp_server.messages
    assert message.login == user


def test_a_wrong_non_ascii_smtp_password_is_an_auth_failure_not_internal(
    smtp_server: SmtpTestServer,
) -> None:
    sender = SmtpSender(smtp_server.smtp_settings("carl"), lambda: Secret(CJK))
    with pytest.raises(AuthenticationFailed) as caught:
        sender.send(envelope_from="carl@example.com", recipients=["bob@example.org"], data=DATA)
    _no_leak(_errors_of(caught.value))
    assert smtp_server.messages == []


# ---------------------------------------------------------------- 8: over the wire
@pytest.mark.dovecot
@pytest.mark.anyio
async def test_over_stdio_a_non_ascii_password_works_and_a_wrong_one_leaks_nothing(
    tmp_path: Path, dovecot: DovecotServer, smtpd_certificate: tuple[Path, Path]
) -> None:
    """``serve`` with a right and a wrong non-ASCII password, a real SMTP send with the right
    one (and with a wrong one, on a third account: the auth failure opened the second's
    breaker); then the tool errors, stderr, the audit log and ``--dry-run``
    are searched for a codec error's words."""
    user, _ = dovecot.add_user(password=UMLAUT)
    smtp = start_smtpd(tmp_path / "smtp", users={user: UMLAUT}, certificate=smtpd_certificate)
    try:
        config = write_config(
            tmp_path,
            dovecot,
            user,
            [("good", "full"), ("bad", "full"), ("bad2", "full")],
            smtp=smtp,
        )
        env = environment(tmp_path, {"good": UMLAUT, "bad": CJK, "bad2": CJK})
        errlog = (tmp_path / "stderr.log").open("w")
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "mailguard_mcp", "serve", "--config", str(config)],
            env=env,
        )
        with anyio.fail_after(60):
            async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
                good = await client.call_tool("list_folders", {})
                sent = await client.call_tool(
                    "send_email",
                    {"to": ["bob@example.org"], "subject": "hi", "body": "b", "account": "good"},
                )
                bad = await client.call_tool("list_folders", {"account": "bad"})
                bad_send = await client.call_tool(
                    "send_email",
                    {"to": ["bob@example.org"], "subject": "hi", "body": "b", "account": "bad2"},
                )
        errlog.close()
        dry = subprocess.run(
            [sys.executable, "-m", "mailguard_mcp", "--dry-run", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
    finally:
        smtp.stop()
    assert not good.is_error, good.content
    assert not sent.is_error, sent.content
    assert len(smtp.messages) == 1
    for result in (bad, bad_send):
        assert result.is_error
        assert result.structured_content is not None
        assert result.structured_content["error"]["code"] == "auth_failed"
    texts = [str(r.content) for r in (good, sent, bad, bad_send)]
    stderr = (tmp_path / "stderr.log").read_text()
    audit = (tmp_path / "audit.jsonl").read_text()
    _no_leak(*texts, stderr, audit, dry.stdout, dry.stderr)
    assert "internal_error" not in audit
    assert dry.returncode == 1  # "bad" fails to log in; "good" is fine
    details = [
        json.loads(line).get("detail", "") for line in audit.splitlines() if '"detail"' in line
    ]
    assert details and all("protocol" not in d.lower() for d in details)


@pytest.mark.parametrize(("a", "b"), [("my-box", "my.box"), ("audit_hmac", None)])
def test_serve_refuses_a_config_whose_secret_names_collide(
    tmp_path: Path, a: str, b: str | None
) -> None:
    """The real CLI: ``serve`` and ``--dry-run`` exit with the problem naming both entries,
    before any secret is read."""
    names = [a] if b is None else [a, b]
    blocks = "".join(
        f'[[accounts]]\nname = "{n}"\naddress = "me@example.com"\nmaildir = "{tmp_path}"\n'
        for n in names
    )
    config = tmp_path / "mailguard.toml"
    config.write_text(blocks)
    env = environment(tmp_path, {})
    for args in (["serve"], ["--dry-run"]):
        out = subprocess.run(
            [sys.executable, "-m", "mailguard_mcp", *args, "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        assert out.returncode != 0
        other = b if b is not None else AUDIT_HMAC_ENTRY
        assert repr(names[-1]) in out.stderr and repr(other) in out.stderr, out.stderr
        assert env_var_name(names[-1]) in out.stderr
