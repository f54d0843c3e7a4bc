"""Issue 12 item 6: ``audit verify`` cannot be downgraded.

The attacker can write the log file but does not have the HMAC key. They rewrite a keyed log
as a plain SHA-256 chain (``keyed: false``), or empty it. ``audit verify`` holds the log to
the configuration (``[audit] hmac = true`` means only the key's HMAC verifies) and fails on a
missing or empty log. Every run is the real CLI in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mailguard_core.adapters.jsonl_audit import JsonlAuditSink
from mailguard_core.gate import FakeClock
from mailguard_core.gate.audit import Chain
from mailguard_core.ports.secrets import Secret

KEY = "0123456789abcdef-the-audit-key"


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailguard_mcp", "audit", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An environment with no keyring, no audit key and no configuration file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILGUARD_") and k != "HOME"}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    return env


def write_config(tmp_path: Path, log: Path, *, hmac: bool) -> Path:
    path = tmp_path / "mailguard.toml"
    path.write_text(
        f'[audit]\npath = "{log}"\nhmac = {"true" if hmac else "false"}\n'
        '[[accounts]]\nname = "work"\naddress = "me@work.example"\n'
        '[accounts.imap]\nhost = "127.0.0.1"\nusername = "me"\n'
    )
    return path


def keyed_log(path: Path) -> None:
    clock = FakeClock(wall=1_800_000_000.0)
    with JsonlAuditSink(path, hmac_key=Secret(KEY), clock=clock) as sink:
        for tool in ("search", "send_email", "expunge"):
            start = sink.write({"kind": "call_start", "tool": tool, "args": {}})
            sink.write({"kind": "call_end", "start_seq": start, "outcome": "ok"})


def rewrite_unkeyed(path: Path, *, drop_tool: str | None = None) -> None:
    """What an attacker without the key does: drop what they like, mark the log unkeyed and
    re-hash the whole chain with plain SHA-256 (a perfectly consistent chain)."""
    records = [json.loads(line) for line in path.read_text().splitlines()]
    dropped = {
        r["seq"] for r in records if r.get("kind") == "call_start" and r.get("tool") == drop_tool
    }
    chain = Chain(None)
    lines = []
    renumber: dict[int, int] = {}
    for record in records:
        if record["seq"] in dropped or record.get("start_seq") in dropped:
            continue
        old_seq = record["seq"]
        body = {k: v for k, v in record.items() if k not in {"v", "seq", "prev", "hash"}}
        if "keyed" in body:
            body["keyed"] = False
        if "start_seq" in body:
            body["start_seq"] = renumber[body["start_seq"]]
        seq, line = chain.seal(body)
        renumber[old_seq] = seq
        lines.append(line)
    path.write_text("\n".join(lines) + "\n")


def test_a_keyed_log_rewritten_as_a_plain_chain_fails_when_the_config_says_hmac(
    tmp_path: Path, home: dict[str, str]
) -> None:
    """`audit verify PATH` with `[audit] hmac = true`: the forged plain chain is TAMPERED
    (exit 1, naming the downgrade), the genuine keyed log is OK, with the key from the
    secret store the server uses (here its environment fallback)."""
    log = tmp_path / "audit.jsonl"
    keyed_log(log)
    config = write_config(tmp_path, log, hmac=True)
    env = {**home, "MAILGUARD_CONFIG": str(config), "MAILGUARD_AUDIT_HMAC_PASSWORD": KEY}
    genuine = cli("verify", str(log), env=env)
    assert genuine.returncode == 0, genuine.stdout + genuine.stderr
    assert "HMAC-keyed" in genuine.stdout
    rewrite_unkeyed(log, drop_tool="expunge")
    forged = cli("verify", str(log), env=env)
    assert forged.returncode == 1, forged.stdout + forged.stderr
    assert f"TAMPERED: {log} line 1 (seq 1): the log says it is not HMAC-keyed" in forged.stdout
    # the same with the config named on the command line, and with the log taken from it
    assert cli("verify", str(log), "--config", str(config), env=env).returncode == 1
    assert cli("verify", env=env).returncode == 1


def test_hmac_true_without_the_key_cannot_verify_anything(
    tmp_path: Path, home: dict[str, str]
) -> None:
    """With `hmac = true` and no key available, verify exits 2 for the genuine log and for
    the forgery alike: there is no unkeyed fallback to downgrade to."""
    log = tmp_path / "audit.jsonl"
    keyed_log(log)
    env = {**home, "MAILGUARD_CONFIG": str(write_config(tmp_path, log, hmac=True))}
    genuine = cli("verify", str(log), env=env)
    assert genuine.returncode == 2
    assert "hmac = true" in genuine.stderr
    rewrite_unkeyed(log)
    forged = cli("verify", str(log), env=env)
    assert forged.returncode == 2
    assert "OK" not in forged.stdout


def test_a_given_key_means_the_log_must_be_keyed(tmp_path: Path, home: dict[str, str]) -> None:
    """Without any configuration, passing the key (--key-env) is the expectation: the
    unkeyed forgery fails; a plain verify with neither key nor config passes but says that
    an unkeyed chain proves nothing against someone who can write the file."""
    log = tmp_path / "audit.jsonl"
    keyed_log(log)
    rewrite_unkeyed(log)
    env = {**home, "MG_KEY": KEY}
    with_key = cli("verify", str(log), "--key-env", "MG_KEY", env=env)
    assert with_key.returncode == 1
    assert "not HMAC-keyed, but a key is expected" in with_key.stdout
    plain = cli("verify", str(log), env=env)
    assert plain.returncode == 0
    assert "verified without a key" in plain.stdout


@pytest.mark.parametrize("content", [b"", b'{"kind":"log_op', b"\n"])
def test_an_emptied_log_fails(tmp_path: Path, home: dict[str, str], content: bytes) -> None:
    """A log truncated to nothing (or to a fragment, or a blank line) has no log_open: it is
    not an intact log of zero records."""
    log = tmp_path / "audit.jsonl"
    keyed_log(log)
    log.write_bytes(content)
    out = cli("verify", str(log), env=home)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "TAMPERED" in out.stdout
    assert "OK" not in out.stdout


def test_a_missing_log_or_a_broken_config_fails(tmp_path: Path, home: dict[str, str]) -> None:
    """A missing log exits 2; so does a configuration that cannot be read (the expectation
    cannot be known), and no PATH without a configuration."""
    log = tmp_path / "audit.jsonl"
    missing = cli("verify", str(log), env=home)
    assert missing.returncode == 2 and "no audit log" in missing.stderr
    keyed_log(log)
    bad = tmp_path / "bad.toml"
    bad.write_text("[audit\n")
    broken = cli("verify", str(log), env={**home, "MAILGUARD_CONFIG": str(bad)})
    assert broken.returncode == 2 and "not valid TOML" in broken.stderr
    assert cli("verify", env=home).returncode == 2
    gone = cli("verify", str(log), env={**home, "MAILGUARD_CONFIG": str(tmp_path / "gone.toml")})
    assert gone.returncode == 2 and "not found" in gone.stderr
