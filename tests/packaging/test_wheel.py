"""Packaging as users get it (issue 15 item 5): the wheel and the sdist build cleanly and pass
``twine check``; the wheel, installed into a fresh virtual environment that cannot see the
source tree, runs ``mailguard-mcp demo`` for the real MCP client (what ``pipx install`` and
``uvx --from`` do). Slow (a build and an install with dependencies from the package index or
pip's cache): one test does it all."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import anyio
import pytest

from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.anyio, pytest.mark.timeout(900)]


def _run(argv: list[str], cwd: Path, timeout: float = 600) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    out = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert out.returncode == 0, f"{argv}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout


async def test_the_wheel_installs_into_a_fresh_venv_and_serves_the_demo(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    # no --sdist/--wheel: the wheel is built from the sdist, which proves the sdist complete
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)], cwd=tmp_path)
    [wheel] = dist.glob("*.whl")
    [sdist] = dist.glob("*.tar.gz")
    _run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)], cwd=tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    assert "mailguard_mcp/py.typed" in names and "mailguard_core/py.typed" in names
    assert any(n.startswith("mailguard_mcp/demo/mail/") for n in names)
    assert not any(n.startswith("tests/") for n in names)

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", str(wheel)], cwd=tmp_path, timeout=800)
    where = _run([str(python), "-c", "import mailguard_mcp; print(mailguard_mcp.__file__)"],
                 cwd=tmp_path)  # fmt: skip
    assert where.strip().startswith(str(venv)), where  # the installed copy, not the checkout
    version = _run([str(venv / "bin" / "mailguard-mcp"), "--version"], cwd=tmp_path)
    assert version.startswith("mailguard-mcp ")

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    params = StdioServerParameters(
        command=str(venv / "bin" / "mailguard-mcp"), args=["demo"], env=env, cwd=str(tmp_path)
    )
    with anyio.fail_after(120):
        async with Client(params, mode="legacy") as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            found = await client.call_tool("search", {"subject": "Quarterly"})
    assert "search" in tools and "delete_message" not in tools
    assert not found.is_error
    assert found.structured_content is not None and found.structured_content["items"]
