"""The README's quick starts followed as written (issue 15 item 6), with the session Dovecot
and an aiosmtpd in the provider's TLS mode standing in for the provider's servers: only host,
port, login name and trust (a pin or ``ca_file`` for the test certificate) are changed.
iCloud and Yahoo: ``init`` with the preset, and the README's TOML block; Gmail (app password),
Fastmail and self-hosted Dovecot: the TOML block; each through the dry run as written and with
posture "full" (SMTP signed in to), in-process (1-4 s each). Outlook: Microsoft's sign-in
cannot be stood in for; ``init`` must write the README's Microsoft account (the OAuth2 path
itself is tested against a local authorization server by tests/mcp/test_stdio_oauth.py). The
Proton Mail Bridge quick start is tested in tests/mcp/test_init.py."""

from __future__ import annotations

import hashlib
import io
import re
import ssl
from pathlib import Path

import pytest

from mailguard_core.config import load_config, parse_config
from mailguard_mcp import init_cli
from mailguard_mcp.dry_run import dry_run
from mailguard_mcp.init_presets import PROVIDERS
from tests.mcp.test_docs import _blocks
from tests.support.dovecot import DovecotServer, dovecot  # noqa: F401  (fixture)
from tests.support.smtpd import SmtpTestServer, smtpd_certificate, start_smtpd  # noqa: F401

pytestmark = pytest.mark.dovecot

PASSWORD = "app-password-9"


@pytest.fixture
def user(dovecot: DovecotServer) -> str:  # noqa: F811
    name, _ = dovecot.add_user(password=PASSWORD)
    return name


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("MAILGUARD_AUDIT_HMAC_PASSWORD", raising=False)


def _smtpd(tmp_path: Path, user: str, mode: str, cert: tuple[Path, Path]) -> SmtpTestServer:
    return start_smtpd(tmp_path / "smtp", mode=mode, users={user: PASSWORD},  # type: ignore[arg-type]
                       certificate=cert)  # fmt: skip


def _stand_in(block: str, servers: dict[str, tuple[int, str]], user: str) -> str:
    """The README block with the host of its ``[accounts.imap]`` and ``[accounts.smtp]``
    tables replaced by 127.0.0.1, the test port and ``ca_file`` (the table's own port and
    ca_file lines dropped), and the login name replaced."""
    lines = []
    table = ""
    for line in block.splitlines():
        if line.startswith("["):
            table = line.strip("[]").removeprefix("accounts.")
        if table in servers and line.startswith("host = "):
            port, ca_file = servers[table]
            lines += ['host = "127.0.0.1"', f"port = {port}", f'ca_file = "{ca_file}"']
        elif table in servers and line.startswith(("port = ", "ca_file = ")):
            continue
        elif line.startswith("username = "):
            lines.append(f'username = "{user}"')
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def _dry_run(path: Path) -> tuple[int, str]:
    out = io.StringIO()
    return dry_run(load_config(str(path)), out), out.getvalue()


@pytest.mark.parametrize(("key", "smtp_mode"), [("icloud", "starttls"), ("yahoo", "implicit")])
def test_the_readme_quick_start_works_with_a_stand_in_server(
    key: str,
    smtp_mode: str,
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    user: str,
    smtpd_certificate: tuple[Path, Path],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    preset = PROVIDERS[key]
    assert preset.imap is not None and preset.smtp is not None
    assert (preset.imap.tls, preset.smtp.tls) == ("implicit", smtp_mode)
    smtp = _smtpd(tmp_path, user, smtp_mode, smtpd_certificate)
    monkeypatch.setenv(f"MAILGUARD_{key.upper()}_PASSWORD", PASSWORD)
    try:
        # 1. the README's init command, the provider's servers replaced by the stand-ins
        [command] = [b.strip() for b in _blocks("README.md", "bash") if f"--provider {key}" in b]
        assert command == f"mailguard-mcp init --provider {key}"
        config = tmp_path / "init.toml"
        smtp_sha = hashlib.sha256(ssl.PEM_cert_to_DER_cert(smtp.cert_path.read_text()))
        out = io.StringIO()
        code = init_cli.main(
            ["--non-interactive", "--provider", key, "--address", f"you@{key}.example",
             "--imap-host", "127.0.0.1", "--imap-port", str(dovecot.imaps_port),
             "--smtp-host", "127.0.0.1", "--smtp-port", str(smtp.port), "--username", user,
             "--pin", dovecot.cert_sha256, "--pin", smtp_sha.hexdigest(), "--posture", "full",
             "--no-password", "--config", str(config)],
            out=out, err=out,
        )  # fmt: skip
        assert code == 0, out.getvalue()
        account = load_config(str(config)).account(key)
        assert account.imap is not None and account.smtp is not None
        assert (account.imap.tls, account.smtp.tls) == ("implicit", smtp_mode)  # the preset's
        assert "signed in (TLSv1." in out.getvalue()  # the SMTP check of init's dry run

        # 2. the README's TOML block, as written, then with a posture that sends
        [block] = [b for b in _blocks("README.md", "toml") if f'name = "{key}"' in b]
        servers = {
            "imap": (dovecot.imaps_port, str(dovecot.cert_path)),
            "smtp": (smtp.port, str(smtp.cert_path)),
        }
        text = _stand_in(block, servers, user)
        path = tmp_path / "readme.toml"
        path.write_text(text)
        code, shown = _dry_run(path)
        assert code == 0, shown
        assert "folder: Drafts folder" in shown  # draft-safe: create_draft's folder checked
        path.write_text(text.replace('posture = "draft-safe"', 'posture = "full"'))
        code, shown = _dry_run(path)
        assert code == 0, shown
        assert "signed in (TLSv1." in shown and smtp.messages == []
    finally:
        smtp.stop()


@pytest.mark.parametrize("name", ["gmail", "fastmail", "home"])
def test_the_readme_password_account_blocks_work_with_a_stand_in_server(
    name: str,
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    user: str,
    smtpd_certificate: tuple[Path, Path],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Gmail (app password), Fastmail and self-hosted Dovecot: each TOML block as written
    (its TLS modes and posture), then with posture "full" so its SMTP table is signed in to."""
    [block] = [
        b for b in _blocks("README.md", "toml")
        if f'name = "{name}"' in b and 'auth = "oauth2"' not in b
    ]  # fmt: skip
    doc = __import__("tomllib").loads(block)
    account = doc["accounts"][0]
    imap_tls = account["imap"].get("tls", "implicit")
    smtp_tls = account["smtp"].get("tls", "implicit")
    smtp = _smtpd(tmp_path, user, smtp_tls, smtpd_certificate)
    monkeypatch.setenv(f"MAILGUARD_{name.upper()}_PASSWORD", PASSWORD)
    try:
        imap_port = dovecot.imaps_port if imap_tls == "implicit" else dovecot.imap_port
        servers = {
            "imap": (imap_port, str(dovecot.cert_path)),
            "smtp": (smtp.port, str(smtp.cert_path)),
        }
        text = _stand_in(block, servers, user)
        path = tmp_path / "readme.toml"
        path.write_text(text)
        code, shown = _dry_run(path)
        assert code == 0, shown
        path.write_text(re.sub(r'posture = "[a-z-]+"', 'posture = "full"', text))
        code, shown = _dry_run(path)
        assert code == 0, shown
        assert "signed in (TLSv1." in shown and smtp.messages == []
    finally:
        smtp.stop()


def test_the_outlook_init_writes_the_readme_microsoft_account(tmp_path: Path) -> None:
    [command] = [b.strip() for b in _blocks("README.md", "bash") if "--provider outlook" in b]
    argv = command.split()[2:]  # after "mailguard-mcp init"
    config = tmp_path / "outlook.toml"
    out = io.StringIO()
    code = init_cli.main(
        [*argv, "--non-interactive", "--address", "you@contoso.com", "--config", str(config)],
        out=out, err=out,
    )  # fmt: skip
    assert code == 0, out.getvalue()
    assert "Next: mailguard-mcp login outlook" in out.getvalue()
    written = load_config(str(config)).account("outlook")
    [block] = [b for b in _blocks("README.md", "toml") if 'provider = "microsoft"' in b]
    readme = parse_config(__import__("tomllib").loads(block)).account("work")
    assert written.imap == readme.imap and written.smtp == readme.smtp  # preset servers, oauth2
    assert written.oauth is not None and readme.oauth is not None
    assert (written.oauth.provider, written.oauth.client_id) == (
        readme.oauth.provider,
        readme.oauth.client_id,
    )
    assert written.uses_oauth
