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

from mailguard_core.tools import Posture, ToolName, posture_allows

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
    """tools/list shows the draft-safe tools; search and fetch_message work from the CLI (the
    three commands run side by side: demo refs are the same in every session)."""
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
    ]
    listed, found, fetched = (_result(p) for p in running)
    names = {tool["name"] for tool in listed["tools"]}
    assert names == {t.value for t in ToolName if posture_allows(Posture.DRAFT_SAFE, t)}
    [item] = found["structuredContent"]["items"]
    assert item["meta"]["message_ref"] == ref
    assert fetched["isError"] is False
    codes = {w["code"] for w in fetched["structuredContent"]["security_warnings"]}
    assert "html_hidden_content_removed" in codes
    assert "ignore all previous" not in fetched["content"][0]["text"]
