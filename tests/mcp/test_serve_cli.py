"""``mailguard-mcp serve``: exit codes and messages at startup, and the hint on a terminal."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mailguard_mcp.demo import materialize
from tests.mcp.wire import raw_session


def _config(tmp_path: Path) -> Path:
    materialize(tmp_path / "Maildir")
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[[accounts]]
name = "local"
address = "me@local.example"
maildir = "{tmp_path / "Maildir"}"
[audit]
path = "{tmp_path / "audit.jsonl"}"
"""
    )
    return path


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailguard_mcp", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


def test_a_missing_config_is_reported_with_exit_code_2(tmp_path: Path) -> None:
    """No config file: a clear message naming how to give one, exit 2, no traceback."""
    out = _serve("--config", str(tmp_path / "absent.toml"))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "absent.toml" in out.stderr


@pytest.mark.anyio
async def test_a_second_server_on_the_same_audit_log_exits_with_a_clear_message(
    tmp_path: Path,
) -> None:
    """The audit log's lock makes a second process stop at startup with exit code 1."""
    config = _config(tmp_path)
    async with raw_session(["serve", "--config", str(config)]) as first:
        await first.initialize()
        second = _serve("--config", str(config))
    assert second.returncode == 1
    assert "locked by another mailguard process" in second.stderr
    assert "Traceback" not in second.stderr


def test_on_a_terminal_the_server_prints_a_one_line_hint_to_stderr(tmp_path: Path) -> None:
    """With stdin a TTY, stderr's first line says how to connect a client."""
    config = _config(tmp_path)
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "mailguard_mcp", "serve", "--config", str(config)],
        stdin=terminal,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 60
        line = b""
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            ready, _, _ = select.select([process.stderr], [], [], 1.0)
            if ready:
                chunk = os.read(process.stderr.fileno(), 4096)
                if not chunk:
                    break
                line += chunk
    finally:
        process.kill()
        process.wait(timeout=10)
        os.close(controller)
        os.close(terminal)
        if process.stderr is not None:
            process.stderr.close()
    first = line.decode().splitlines()[0]
    assert "waiting for an MCP client" in first
    assert "docs/clients.md" in first
