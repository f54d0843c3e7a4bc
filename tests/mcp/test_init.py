"""``mailguard-mcp init`` end to end (issue 15 item 1), against a Dovecot and an aiosmtpd set up
like Proton Mail Bridge (127.0.0.1, STARTTLS, self-signed): non-interactive with flags, and
interactive through a pseudo-terminal (the password prompt reads the terminal, not echoed).
The certificate is trusted only when confirmed (trust on first use); the file written loads,
the password lands in the keyring, and the dry run that follows passes."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.dovecot import DovecotServer, dovecot  # noqa: F401  (fixture)
from tests.support.smtpd import SmtpTestServer, smtpd_certificate, smtpd_for  # noqa: F401

pytestmark = pytest.mark.dovecot

PASSWORD = "bridge-pass-42"


@pytest.fixture
def user(dovecot: DovecotServer) -> str:  # noqa: F811
    name, _ = dovecot.add_user(password=PASSWORD)
    return name


smtp = smtpd_for("user", PASSWORD)


def _env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MAILGUARD_") or k == "MAILGUARD_MCP_EAGER_IMPORTS"
    }
    env.update(
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        HOME=str(tmp_path / "home"),
    )
    return env


def _sha256_of(smtp: SmtpTestServer) -> str:
    import hashlib
    import ssl

    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(Path(smtp.cert_path).read_text())).hexdigest()


def _flags(dovecot: DovecotServer, smtp: SmtpTestServer, user: str) -> list[str]:  # noqa: F811
    return [
        "--provider", "proton-bridge",
        "--imap-port", str(dovecot.imap_port),
        "--smtp-port", str(smtp.port),
        "--username", user,
    ]  # fmt: skip


def test_init_non_interactive_writes_a_config_that_passes_the_dry_run(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    user: str,
    smtp: SmtpTestServer,
) -> None:
    config = tmp_path / "mailguard.toml"
    argv = [sys.executable, "-m", "mailguard_mcp", "init", "--non-interactive",
            "--address", f"{user}@proton.example", *_flags(dovecot, smtp, user),
            "--posture", "full", "--config", str(config), "--password-stdin"]  # fmt: skip
    # without --pin the self-signed certificate is refused and nothing is written
    out = subprocess.run(argv, input=PASSWORD + "\n", capture_output=True, text=True,
                         timeout=60, env=_env(tmp_path))  # fmt: skip
    assert out.returncode == 2, out.stdout + out.stderr
    assert f"--pin {dovecot.cert_sha256}" in out.stderr
    assert "(self-signed)" in out.stdout and "CN=localhost" in out.stdout
    assert not config.exists()

    pins = ["--pin", dovecot.cert_sha256, "--pin", _sha256_of(smtp)]
    out = subprocess.run(argv + pins, input=PASSWORD + "\n", capture_output=True, text=True,
                         timeout=60, env=_env(tmp_path))  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    text = config.read_text()
    assert f'pin_sha256 = "{dovecot.cert_sha256}"' in text
    assert 'tls = "starttls"' in text and f"port = {dovecot.imap_port}" in text
    assert f'pin_sha256 = "{_sha256_of(smtp)}"' in text  # [accounts.smtp] pinned too
    assert "ca_file" not in text
    assert oct(config.stat().st_mode & 0o777) == "0o600"
    assert "OK: every account connected" in out.stdout
    assert "signed in (TLSv1." in out.stdout  # the SMTP check of the dry run
    assert PASSWORD not in out.stdout + out.stderr + text

    # it never replaces an existing file without --force
    again = subprocess.run(argv + pins, input=PASSWORD + "\n", capture_output=True, text=True,
                           timeout=60, env=_env(tmp_path))  # fmt: skip
    assert again.returncode == 2 and "--force" in again.stderr


def _drive(argv: list[str], env: dict[str, str], script: list[tuple[str, str]]) -> tuple[int, str]:
    """Run ``argv`` on a pseudo-terminal (its controlling terminal), answer each prompt of
    ``script`` when it appears; returns (exit code, everything the terminal showed)."""
    master, slave = os.openpty()
    launcher = (
        "import fcntl, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
        "from mailguard_mcp.cli import main; raise SystemExit(main(sys.argv[1:]))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", launcher, *argv],
        stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    shown = b""
    pending = list(script)
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
            if pending and pending[0][0].encode() in shown.split(b"\x00")[-1]:
                _prompt, answer = pending.pop(0)
                shown += b"\x00"  # marks what has been answered
                os.write(master, answer.encode() + b"\n")
            if proc.poll() is not None and not ready:
                break
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert not pending, f"never asked {pending[0][0]!r}:\n{shown.decode(errors='replace')}"
    return code, shown.replace(b"\x00", b"").decode(errors="replace")


def test_init_interactive_through_a_terminal_with_trust_on_first_use(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    user: str,
    smtp: SmtpTestServer,
) -> None:
    config = tmp_path / "mailguard.toml"
    argv = ["init", "--config", str(config), "--imap-port", str(dovecot.imap_port),
            "--smtp-port", str(smtp.port), "--username", user]  # fmt: skip
    code, shown = _drive(
        argv,
        _env(tmp_path),
        [
            ("Email address", f"{user}@proton.example"),
            ("Provider", "proton-bridge"),
            ("Posture", "full"),
            ("Trust it", "y"),  # IMAP
            ("Trust it", "y"),  # SMTP
            ("Password for", PASSWORD),
        ],
    )
    assert code == 0, shown
    assert dovecot.cert_sha256 in shown  # shown before the question
    assert PASSWORD not in shown  # the password prompt does not echo
    assert "OK: every account connected" in shown
    assert f'pin_sha256 = "{dovecot.cert_sha256}"' in config.read_text()


def test_init_interactive_refusing_the_certificate_writes_nothing(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    user: str,
    smtp: SmtpTestServer,
) -> None:
    config = tmp_path / "mailguard.toml"
    argv = ["init", "--config", str(config), "--provider", "proton-bridge",
            "--imap-port", str(dovecot.imap_port), "--smtp-port", str(smtp.port)]  # fmt: skip
    code, shown = _drive(
        argv,
        _env(tmp_path),
        [("Email address", f"{user}@proton.example"), ("Posture", ""), ("Trust it", "n")],
    )
    assert code == 2, shown
    assert "was not trusted" in shown
    assert not config.exists()


def test_every_provider_preset_renders_a_valid_config() -> None:
    import tomllib

    from mailguard_core.config import parse_config
    from mailguard_mcp.init_cli import PROVIDERS, Server, render

    for provider in PROVIDERS.values():
        imap = provider.imap or Server("imap.example.org", 993, "implicit")
        text = render(
            name="acct", address="me@example.org", posture="draft-safe",
            username="me@example.org", imap=imap, smtp=provider.smtp, pin=None,
            smtp_pin=None, provider=provider, client_id="client-123",
        )  # fmt: skip
        config = parse_config(tomllib.loads(text))
        account = config.account("acct")
        if provider.oauth:
            assert account.imap is not None and account.imap.host == "outlook.office365.com"
            assert account.uses_oauth
        else:
            assert account.imap is not None and account.imap.host == imap.host


def test_the_readme_proton_bridge_quick_start_works_as_written(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    user: str,
) -> None:
    """The README's Proton Mail Bridge block, with only the port (Dovecot stands in for
    Bridge: 127.0.0.1, STARTTLS, self-signed) and the user changed: the dry run fails and
    prints the pin line; pasted where the README says, the dry run passes."""
    from tests.mcp.test_docs import _blocks

    [block] = [b for b in _blocks("README.md", "toml") if "port = 1143" in b]
    text = block.replace("port = 1143", f"port = {dovecot.imap_port}")
    text = text.replace('username = "me@proton.me"', f'username = "{user}"')
    config = tmp_path / "proton.toml"
    config.write_text(text)
    env = {**_env(tmp_path), "MAILGUARD_PROTON_PASSWORD": PASSWORD}
    argv = [sys.executable, "-m", "mailguard_mcp", "--dry-run", "--config", str(config)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 1, out.stdout + out.stderr
    [pin_line] = [x.strip() for x in out.stdout.splitlines() if x.strip().startswith("pin_sha256")]
    assert dovecot.cert_sha256 in pin_line
    marker = "# pin_sha256 = "
    [commented] = [x for x in text.splitlines() if x.startswith(marker)]
    config.write_text(text.replace(commented, pin_line))
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stdout + out.stderr


def test_init_probes_a_host_for_its_tls_modes(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    user: str,
    smtp: SmtpTestServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A generic server: ``--host`` with the ports but no TLS modes; the probe finds STARTTLS
    on both (the plaintext IMAP port) and implicit TLS on the other IMAP port. In-process
    (the password from the environment, as on a headless machine)."""
    import io

    from mailguard_mcp import init_cli

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("MAILGUARD_MAIL_PASSWORD", PASSWORD)
    config = tmp_path / "mailguard.toml"
    pins = ["--pin", dovecot.cert_sha256, "--pin", _sha256_of(smtp)]
    argv = ["--non-interactive", "--address", f"{user}@home.example", "--provider", "generic",
            "--host", "127.0.0.1", "--imap-port", str(dovecot.imap_port),
            "--smtp-port", str(smtp.port), "--username", user, "--posture", "full",
            "--config", str(config), "--no-password", *pins]  # fmt: skip
    out = io.StringIO()
    assert init_cli.main(argv, out=out, err=out) == 0, out.getvalue()
    shown = out.getvalue()
    assert f"IMAP 127.0.0.1: found starttls TLS on port {dovecot.imap_port}" in shown
    assert f"SMTP 127.0.0.1: found starttls TLS on port {smtp.port}" in shown
    assert config.read_text().count('tls = "starttls"') == 2
    assert "OK: every account connected" in shown

    argv[argv.index(str(dovecot.imap_port))] = str(dovecot.imaps_port)
    out = io.StringIO()
    assert init_cli.main([*argv, "--force"], out=out, err=out) == 0, out.getvalue()
    assert f"IMAP 127.0.0.1: found implicit TLS on port {dovecot.imaps_port}" in out.getvalue()
    assert 'tls = "implicit"' in config.read_text()


def test_init_says_what_to_give_when_the_probe_finds_nothing(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = str(s.getsockname()[1])
    argv = [sys.executable, "-m", "mailguard_mcp", "init", "--non-interactive",
            "--address", "me@home.example", "--provider", "generic", "--host", "127.0.0.1",
            "--imap-port", closed, "--config", str(tmp_path / "c.toml"),
            "--no-password"]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=_env(tmp_path))
    assert out.returncode == 2, out.stdout + out.stderr
    assert f"IMAP 127.0.0.1: no server with TLS answered on port {closed}" in out.stdout
    assert "give --imap-port and --imap-tls for 127.0.0.1" in out.stderr
    assert not (tmp_path / "c.toml").exists()


def test_init_interactive_probes_the_host_it_is_given(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    user: str,
    smtp: SmtpTestServer,
) -> None:
    """Another IMAP server, through the terminal: the hosts typed in are probed (the ports
    given as flags) and no TLS mode or port is asked."""
    config = tmp_path / "mailguard.toml"
    argv = ["init", "--config", str(config), "--imap-port", str(dovecot.imaps_port),
            "--smtp-port", str(smtp.port), "--username", user]  # fmt: skip
    code, shown = _drive(
        argv,
        _env(tmp_path),
        [
            ("Email address", f"{user}@home.example"),
            ("Provider", "generic"),
            ("Posture", "full"),
            ("IMAP host", "127.0.0.1"),
            ("SMTP host", "127.0.0.1"),
            ("Trust it", "y"),  # IMAP
            ("Trust it", "y"),  # SMTP
            ("Password for", PASSWORD),
        ],
    )
    assert code == 0, shown
    assert f"IMAP 127.0.0.1: found implicit TLS on port {dovecot.imaps_port}" in shown
    assert f"SMTP 127.0.0.1: found starttls TLS on port {smtp.port}" in shown
    assert "TLS (implicit or starttls)" not in shown  # found, not asked
    assert "OK: every account connected" in shown
    text = config.read_text()
    assert 'tls = "implicit"' in text and 'tls = "starttls"' in text
