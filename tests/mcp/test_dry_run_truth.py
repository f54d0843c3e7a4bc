"""``mailguard-mcp --dry-run`` tells the truth (issue 15 item 2), run as a subprocess against
the real Dovecot and aiosmtpd: a dead SMTP port and a missing audit HMAC key fail it; a
self-signed certificate without trust prints the presented fingerprint and the exact line to
add, and with that line added the dry run passes (trust on first use, the Proton Bridge
setup: 127.0.0.1, STARTTLS, self-signed)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mailguard_core.adapters import tls_probe
from tests.support.dovecot import DovecotServer, dovecot  # noqa: F401  (fixture)
from tests.support.smtpd import SmtpTestServer, smtpd_certificate, smtpd_for  # noqa: F401

pytestmark = pytest.mark.dovecot

PASSWORD = "dry-pass-3"
AUDIT_KEY = "audit-key-0123456789"


@pytest.fixture
def user(dovecot: DovecotServer) -> str:  # noqa: F811
    name, _ = dovecot.add_user(password=PASSWORD)
    return name


smtp = smtpd_for("user", PASSWORD)


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens


def _config(
    tmp_path: Path,
    server: DovecotServer,
    user: str,
    *,
    smtp: SmtpTestServer | None = None,
    smtp_port: int | None = None,
    posture: str = "full",
    imap_extra: str = "",
    tls: str = "implicit",
    trust: bool = True,
    hmac: bool = False,
    smtp_trust: str = "ca_file",
) -> Path:
    port = server.imaps_port if tls == "implicit" else server.imap_port
    ca = f'ca_file = "{server.cert_path}"\n' if trust else ""
    text = f"""
[audit]
path = "{tmp_path / "audit.jsonl"}"
hmac = {"true" if hmac else "false"}

[[accounts]]
name = "me"
address = "{user}@dry.example"
posture = "{posture}"
[accounts.imap]
host = "127.0.0.1"
port = {port}
tls = "{tls}"
username = "{user}"
{ca}{imap_extra}
"""
    if smtp is not None:
        trust = f'ca_file = "{smtp.cert_path}"\n' if smtp_trust == "ca_file" else smtp_trust
        text += f"""[accounts.smtp]
host = "127.0.0.1"
port = {smtp_port or smtp.port}
tls = "starttls"
username = "{user}"
{trust}timeout = 5.0
"""
    path = tmp_path / "mailguard.toml"
    path.write_text(text)
    return path


def _dry_run(tmp_path: Path, config: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "MAILGUARD_ME_PASSWORD": PASSWORD,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "XDG_STATE_HOME": str(tmp_path / "state"),
        **env,
    }
    if "MAILGUARD_AUDIT_HMAC_PASSWORD" not in env:
        environ.pop("MAILGUARD_AUDIT_HMAC_PASSWORD", None)
    return subprocess.run(
        [sys.executable, "-m", "mailguard_mcp", "--dry-run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=environ,
    )


def test_a_working_setup_checks_smtp_and_the_audit_log_and_exits_zero(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    user: str,
    smtp: SmtpTestServer,
) -> None:
    out = _dry_run(tmp_path, _config(tmp_path, dovecot, user, smtp=smtp))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "signed in (TLSv1." in out.stdout and "no mail sent" in out.stdout
    assert "writable" in out.stdout
    assert smtp.messages == []
    assert PASSWORD not in out.stdout + out.stderr


def test_a_dead_smtp_port_fails_the_dry_run(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    user: str,
    smtp: SmtpTestServer,
) -> None:
    """Before: 'OK: every account connected' although nothing listened on the SMTP port."""
    config = _config(tmp_path, dovecot, user, smtp=smtp, smtp_port=_dead_port())
    out = _dry_run(tmp_path, config)
    assert out.returncode == 1, out.stdout + out.stderr
    [line] = [x for x in out.stdout.splitlines() if x.strip().startswith("smtp ")]
    assert "FAILED: could not reach the mail server" in line
    assert "1 check(s) failed" in out.stdout


def test_a_readonly_account_does_not_need_smtp(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    user: str,
    smtp: SmtpTestServer,
) -> None:
    config = _config(tmp_path, dovecot, user, smtp=smtp, smtp_port=_dead_port(), posture="readonly")
    out = _dry_run(tmp_path, config)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "smtp 127.0.0.1" not in out.stdout


def test_a_missing_audit_hmac_key_fails_the_dry_run_and_a_present_one_passes(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    user: str,
) -> None:
    """Before: dry run OK, then `serve` exited 1 for want of the key."""
    config = _config(tmp_path, dovecot, user, posture="readonly", hmac=True)
    out = _dry_run(tmp_path, config)
    assert out.returncode == 1, out.stdout + out.stderr
    [line] = [x for x in out.stdout.splitlines() if x.startswith("audit log ")]
    assert "FAILED: [audit] hmac = true but no credential" in line
    assert "MAILGUARD_AUDIT_HMAC_PASSWORD" in line

    out = _dry_run(tmp_path, config, MAILGUARD_AUDIT_HMAC_PASSWORD=AUDIT_KEY)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "HMAC key found" in out.stdout
    assert AUDIT_KEY not in out.stdout + out.stderr


def test_a_self_signed_server_prints_its_fingerprint_and_the_pin_line_then_the_pin_works(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    user: str,
) -> None:
    """Trust on first use, as for Proton Mail Bridge (127.0.0.1, STARTTLS, self-signed):
    before, the dry run failed with 'self-signed certificate' and printed no fingerprint."""
    config = _config(tmp_path, dovecot, user, posture="readonly", tls="starttls", trust=False)
    out = _dry_run(tmp_path, config)
    assert out.returncode == 1, out.stdout + out.stderr
    assert tls_probe.UNTRUSTED in out.stdout
    assert "CN=localhost" in out.stdout and "(self-signed)" in out.stdout
    pin_line = f'pin_sha256 = "{dovecot.cert_sha256}"'
    assert pin_line in out.stdout

    config.write_text(config.read_text().replace('username = "', pin_line + '\nusername = "', 1))
    out = _dry_run(tmp_path, config)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "FAILED" not in out.stdout


def test_a_wrong_pin_is_never_offered_a_replacement(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    user: str,
) -> None:
    config = _config(
        tmp_path, dovecot, user, posture="readonly", trust=False,
        imap_extra=f'pin_sha256 = "{"00" * 32}"\n',
    )  # fmt: skip
    out = _dry_run(tmp_path, config)
    assert out.returncode == 1
    assert f'pin_sha256 = "{dovecot.cert_sha256}"' not in out.stdout
    assert "presents this certificate" not in out.stdout


def test_the_tls_mismatch_is_named_in_the_dry_run(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    user: str,
) -> None:
    config = _config(tmp_path, dovecot, user, posture="readonly")
    text = config.read_text().replace(f"port = {dovecot.imaps_port}", f"port = {dovecot.imap_port}")
    config.write_text(text)
    out = _dry_run(tmp_path, config)
    assert out.returncode == 1
    assert tls_probe.PLAINTEXT_PORT in out.stdout


def _sha256_of(smtp: SmtpTestServer) -> str:
    import hashlib
    import ssl

    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(Path(smtp.cert_path).read_text())).hexdigest()


def test_a_self_signed_smtp_server_gets_a_pin_line_too_and_the_pin_works(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    user: str,
    smtp: SmtpTestServer,
) -> None:
    """SMTP has pin_sha256 like IMAP (before: only a PEM file for ca_file was offered)."""
    config = _config(tmp_path, dovecot, user, smtp=smtp, smtp_trust="")
    out = _dry_run(tmp_path, config)
    assert out.returncode == 1, out.stdout + out.stderr
    [line] = [x for x in out.stdout.splitlines() if x.strip().startswith("smtp ")]
    assert tls_probe.UNTRUSTED in line
    assert "trust exactly this certificate by adding to [accounts.smtp]" in out.stdout
    pin_line = f'pin_sha256 = "{_sha256_of(smtp)}"'
    assert pin_line in out.stdout

    config = _config(tmp_path, dovecot, user, smtp=smtp, smtp_trust=pin_line + "\n")
    out = _dry_run(tmp_path, config)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "signed in (TLSv1." in out.stdout
    # the fingerprint of a verified or pinned server is printed, as for IMAP
    assert "to pin it, paste into [accounts.smtp]" in out.stdout and pin_line in out.stdout


def test_a_wrong_smtp_pin_fails_before_any_password_is_sent_and_offers_nothing(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    user: str,
    smtp: SmtpTestServer,
) -> None:
    wrong = f'pin_sha256 = "{"ab" * 32}"\n'
    out = _dry_run(tmp_path, _config(tmp_path, dovecot, user, smtp=smtp, smtp_trust=wrong))
    assert out.returncode == 1, out.stdout + out.stderr
    [line] = [x for x in out.stdout.splitlines() if x.strip().startswith("smtp ")]
    assert "FAILED" in line and "does not match the pin" in line
    # no replacement offered for a pin (the detail names the sha256 it saw, as for IMAP)
    assert f'pin_sha256 = "{_sha256_of(smtp)}"' not in out.stdout
    assert "presents this certificate" not in out.stdout
