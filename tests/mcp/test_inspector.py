"""Smoke test with a third-party client: the MCP Inspector CLI against ``mailguard-mcp demo``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mailguard_core.model.tools import Posture, ToolName, posture_allows

# npm install on a cold cache plus three Node + Python processes can pass the default 120 s
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

PACKAGE = "@modelcontextprotocol/inspector@0.15.0"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mailguard-test" / "npm"
BIN = CACHE / "node_modules" / ".bin" / "mcp-inspector"


@pytest.fixture(scope="module")
def inspector() -> Path:
    """The Inspector, installed once into a cache dir outside the repository."""
    npm = shutil.which("npm")
    if shutil.which("npx") is None or npm is None:
        pytest.skip("npx/npm are not on PATH (install Node 20 to run the Inspector smoke test)")
    if not BIN.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", PACKAGE],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return BIN


def _start(binary: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(binary), "--cli", sys.executable, "-m", "mailguard_mcp", "demo", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _result(process: subprocess.Popen[str]) -> dict[str, Any]:
    try:
        out, err = process.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    assert process.returncode == 0, out[-2000:] + err[-2000:]
    result: dict[str, Any] = json.loads(out)
    return result


def test_the_inspector_lists_the_demo_tools_and_reads_an_attack_message(inspector: Path) -> None:
    """tools/list shows the draft-safe tools and send_email; search and fetch_message work
    from the CLI, and a send (no elicitation) becomes a draft (the four commands run side by
    side: demo refs are the same in every session)."""
    ref = "demo:INBOX:1000:11"
    running = [
        _start(inspector, "--method", "tools/list"),
        _start(
            inspector,
            *("--method", "tools/call", "--tool-name", "search"),
            *("--tool-arg", "subject=Quarterly"),
        ),
        _start(
            inspector,
            *("--method", "tools/call", "--tool-name", "fetch_message"),
            *("--tool-arg", f"message_ref={ref}"),
        ),
        # the Inspector (0.15.0, the newest line on Node 20) declares no elicitation: the
        # demo's send falls back to a $PendingReview draft (test_confirm_demo.py asks)
        _start(
            inspector,
            *("--method", "tools/call", "--tool-name", "send_email"),
            *("--tool-arg", 'to=["Ann <ann@colleagues.example>"]', "subject=Hi", "body=Hello"),
        ),
    ]
    listed, found, fetched, sent = (_result(p) for p in running)
    names = {tool["name"] for tool in listed["tools"]}
    draft_safe = {t.value for t in ToolName if posture_allows(Posture.DRAFT_SAFE, t)}
    assert names == draft_safe | {"send_email"}  # sends go to a local outbox, confirmed
    [item] = found["structuredContent"]["items"]
    assert item["meta"]["message_ref"] == ref
    assert fetched["isError"] is False
    codes = {w["code"] for w in fetched["structuredContent"]["security_warnings"]}
    assert "html_hidden_content_removed" in codes
    assert "ignore all previous" not in fetched["content"][0]["text"]
    assert sent["isError"] is False
    assert sent["structuredContent"]["meta"]["accepted"] == []
    assert "$PendingReview draft" in sent["structuredContent"]["meta"]["not_sent"]
    assert sent["structuredContent"]["meta"]["draft_ref"].startswith("demo:Drafts:")


def test_own_config_reaches_the_server_through_dashdash_or_the_environment(
    inspector: Path, tmp_path: Path
) -> None:
    """docs/clients.md: `--config` right after the server command is taken by the Inspector
    (it fails); `--` before the server's arguments, or MAILGUARD_CONFIG via `-e`, works."""
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.eml").write_bytes(
        b"From: a@b.example\r\nTo: me@example.org\r\nSubject: Own config\r\n\r\nHi\r\n"
    )
    config = tmp_path / "c.toml"
    config.write_text(
        f'[audit]\npath = "{tmp_path / "audit.jsonl"}"\n[[accounts]]\nname = "box"\n'
        f'address = "me@example.org"\nposture = "readonly"\nmaildir = "{maildir}"\n'
    )
    server = [sys.executable, "-m", "mailguard_mcp", "serve"]
    method = ["--method", "tools/call", "--tool-name", "search"]
    arg = ["--tool-arg", "subject=Own"]  # last: --tool-arg takes every value after it
    forms = {
        "clash": [str(inspector), "--cli", *method, *server, "--config", str(config), *arg],
        "dashdash": [str(inspector), "--cli", *method, "--", *server, "--config", str(config),
                     *arg],
        "env": [str(inspector), "--cli", "-e", f"MAILGUARD_CONFIG={config}", *method, *server,
                *arg],
    }  # fmt: skip
    results = {}
    for name, argv in forms.items():
        out = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)
        results[name] = out
    assert results["clash"].returncode != 0
    for name in ("dashdash", "env"):
        assert results[name].returncode == 0, results[name].stdout + results[name].stderr
        [item] = json.loads(results[name].stdout)["structuredContent"]["items"]
        assert item["meta"]["message_ref"].startswith("box:INBOX:")
