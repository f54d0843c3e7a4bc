"""``mailguard-mcp audit verify|show``: exit codes, named bad records, filters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mailguard_core.adapters.jsonl_audit import JsonlAuditSink
from mailguard_core.gate import FakeClock
from mailguard_core.ports.secrets import Secret
from mailguard_mcp import audit_cli


@pytest.fixture(autouse=True)
def no_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`audit verify` reads the default configuration when it exists: none here."""
    monkeypatch.delenv("MAILGUARD_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailguard_mcp", "audit", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def make_log(path: Path, *, key: Secret | None = None) -> None:
    clock = FakeClock(wall=1_800_000_000.0)  # 2027-01-15T08:00:00Z
    with JsonlAuditSink(path, hmac_key=key, clock=clock) as sink:
        for tool in ("search", "send_email", "search"):
            start = sink.write({"kind": "call_start", "tool": tool, "ts": "2027-01-15T08:00:00Z"})
            sink.write({"kind": "call_end", "start_seq": start, "ts": "2027-01-15T08:00:01Z"})
            clock.advance(3600)


def test_verify_exits_zero_for_an_intact_log(tmp_path: Path) -> None:
    """A real subprocess run of `audit verify` on an untouched log prints OK and exits 0."""
    path = tmp_path / "audit.jsonl"
    make_log(path)
    out = cli("verify", str(path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("OK: 8 records in 1 file(s)")


def test_verify_exits_one_and_names_the_first_bad_record(tmp_path: Path) -> None:
    """A deleted record makes `audit verify` exit 1 naming file, line, seq and reason."""
    path = tmp_path / "audit.jsonl"
    make_log(path)
    lines = path.read_text().splitlines()
    del lines[3]
    path.write_text("\n".join(lines) + "\n")
    out = cli("verify", str(path))
    assert out.returncode == 1
    assert f"TAMPERED: {path} line 4 (seq 5): expected seq 4" in out.stdout


def test_verify_reports_a_torn_tail_as_a_crash_and_exits_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An incomplete last line is a note, not tampering."""
    path = tmp_path / "audit.jsonl"
    make_log(path)
    with path.open("a") as f:
        f.write('{"kind":"call_st')
    assert audit_cli.main(["verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert "line 9: incomplete last record (16 bytes)" in out
    assert "not tampering" in out


def test_verify_of_a_keyed_log_needs_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --key-env a keyed log exits 2; with the right key it verifies."""
    path = tmp_path / "audit.jsonl"
    make_log(path, key=Secret("0123456789abcdef-key"))
    assert audit_cli.main(["verify", str(path)]) == 2
    out = cli("verify", str(path), "--key-env", "MG_KEY", env={"MG_KEY": "0123456789abcdef-key"})
    assert out.returncode == 0, out.stdout + out.stderr
    monkeypatch.setenv("MG_KEY", "x" * 20)
    assert audit_cli.main(["verify", str(path), "--key-env", "MG_KEY"]) == 1
    assert "key is wrong" in capsys.readouterr().out


def test_verify_of_a_missing_log_exits_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No log at the path is an error, not an intact empty log."""
    assert audit_cli.main(["verify", str(tmp_path / "nope.jsonl")]) == 2
    assert "no audit log" in capsys.readouterr().err


def test_show_filters_by_tool_and_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--tool keeps that tool's start and end records; --since drops older records."""
    path = tmp_path / "audit.jsonl"
    make_log(path)
    assert audit_cli.main(["show", str(path), "--tool", "send_email"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in shown] == ["#4", "#5"]
    assert 'tool="send_email"' in shown[0]
    assert audit_cli.main(["show", str(path), "--since", "2027-01-15T08:00:00.5", "--json"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["seq"] for line in shown] == [3, 5, 7, 8]


def test_show_escapes_control_characters_from_the_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder name with terminal escapes is printed escaped, never raw."""
    path = tmp_path / "audit.jsonl"
    with JsonlAuditSink(path) as sink:
        sink.write({"kind": "call_start", "tool": "create_folder", "args": {"name": "\x1b[2Jx"}})
    assert audit_cli.main(["show", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\u001b[2Jx" in out


def test_show_rejects_a_malformed_since(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--since must be an ISO 8601 date or time."""
    path = tmp_path / "audit.jsonl"
    make_log(path)
    assert audit_cli.main(["show", str(path), "--since", "yesterday"]) == 2
    assert "ISO 8601" in capsys.readouterr().err


def test_verify_can_read_the_key_from_the_secret_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--keyring takes the 'audit-hmac' entry of the secret store; a missing entry exits 2."""
    from mailguard_core.adapters.memory_secrets import InMemorySecretStore

    path = tmp_path / "audit.jsonl"
    make_log(path, key=Secret("0123456789abcdef-key"))
    store = InMemorySecretStore({"audit-hmac": "0123456789abcdef-key"})
    monkeypatch.setattr(audit_cli, "_secret_store", lambda: store)
    assert audit_cli.main(["verify", str(path), "--keyring"]) == 0
    assert capsys.readouterr().out.startswith("OK: 8 records")
    monkeypatch.setattr(audit_cli, "_secret_store", lambda: InMemorySecretStore())
    assert audit_cli.main(["verify", str(path), "--keyring"]) == 2
    assert "no audit HMAC key" in capsys.readouterr().err


def test_show_defaults_to_the_configured_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 15: `audit show` as the README writes it (no PATH) reads the [audit] path."""
    path = tmp_path / "configured.jsonl"
    make_log(path)
    config = tmp_path / "c.toml"
    config.write_text(
        f'[audit]\npath = "{path}"\n[[accounts]]\nname = "a"\naddress = "a@example.org"\n'
        f'maildir = "{tmp_path / "Maildir"}"\n'
    )
    assert audit_cli.main(["show", "--config", str(config), "--tool", "send_email"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in shown] == ["#4", "#5"]
    assert audit_cli.main(["show"]) == audit_cli.EXIT_ERROR  # no PATH, no configuration
    assert "no PATH given and no configuration" in capsys.readouterr().err
