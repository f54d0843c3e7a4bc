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

pytestmark = pytest.mark.slow

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


def _inspector(binary: Path, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [str(binary), "--cli", sys.executable, "-m", "mailguard_mcp", "demo", *args],
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def test_the_inspector_lists_the_demo_tools_and_reads_an_attack_message(inspector: Path) -> None:
    """tools/list shows the draft-safe tools; search and fetch_message work from the CLI."""
    listed = _inspector(inspector, "--method", "tools/list")
    names = {tool["name"] for tool in listed["tools"]}
    assert names == {t.value for t in ToolName if posture_allows(Posture.DRAFT_SAFE, t)}
    found = _inspector(
        inspector,
        *("--method", "tools/call", "--tool-name", "search", "--tool-arg", "subject=Quarterly"),
    )
    [item] = found["structuredContent"]["items"]
    ref = item["meta"]["message_ref"]
    fetched = _inspector(
        inspector,
        *("--method", "tools/call", "--tool-name", "fetch_message"),
        *("--tool-arg", f"message_ref={ref}"),
    )
    assert fetched["isError"] is False
    codes = {w["code"] for w in fetched["structuredContent"]["security_warnings"]}
    assert "html_hidden_content_removed" in codes
    assert "ignore all previous" not in fetched["content"][0]["text"]
