"""Packaging as users get it (issue 15 item 5): the wheel and the sdist build cleanly and pass
``twine check``; the wheel, installed into a fresh virtual environment that cannot see the
source tree, runs ``mailguard-mcp demo`` for the real MCP client; and the README's
``pipx install`` and ``uvx --from`` commands do the same. Slow (builds and installs with
dependencies from the package index or pip's and uv's caches): two tests, on the first Python
only (scripts/test.sh)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import anyio
import pytest

from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.anyio, pytest.mark.timeout(900)]


def _run(
    argv: list[str], cwd: Path, timeout: float = 600, env: dict[str, str] | None = None
) -> str:
    if env is None:
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


def _tool_env(tmp_path: Path) -> dict[str, str]:
    """pipx and uv confined to ``tmp_path`` (their caches stay the user's: a re-run is quick),
    on this interpreter (uv never downloads a Python)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(
        PIPX_HOME=str(tmp_path / "pipx"),
        PIPX_BIN_DIR=str(tmp_path / "bin"),
        PIPX_MAN_DIR=str(tmp_path / "man"),
        PIPX_DEFAULT_PYTHON=sys.executable,
        UV_TOOL_DIR=str(tmp_path / "uv-tools"),
        UV_TOOL_BIN_DIR=str(tmp_path / "uv-bin"),
        UV_PYTHON=sys.executable,
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_PROGRESS="1",
        PATH=f"{tmp_path / 'bin'}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


async def _demo_answers(command: str, args: list[str], env: dict[str, str], cwd: Path) -> None:
    params = StdioServerParameters(command=command, args=args, env=env, cwd=str(cwd))
    with anyio.fail_after(300):  # uvx may first build and fetch the dependencies
        async with Client(params, mode="legacy") as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            found = await client.call_tool("search", {"subject": "Quarterly"})
    assert "search" in tools and "delete_message" not in tools
    assert not found.is_error
    assert found.structured_content is not None and found.structured_content["items"]


async def test_the_readme_pipx_and_uvx_commands_install_and_serve_the_demo(tmp_path: Path) -> None:
    """The README's `pipx install ./mailguard` and `uvx --from ./mailguard mailguard-mcp demo`,
    run as written in a folder holding the unpacked sdist as ``mailguard`` (a checkout's files:
    the checkout itself is left alone, no build/ in it), with pipx and uv confined to
    ``tmp_path``: each copy answers --version and serves the demo to the real MCP client."""
    readme = (ROOT / "README.md").read_text()
    assert "pipx install ./mailguard" in readme
    assert "uvx --from ./mailguard mailguard-mcp demo" in readme
    _run([sys.executable, "-m", "build", "--sdist", "--outdir", str(tmp_path / "dist"),
          str(ROOT)], cwd=tmp_path)  # fmt: skip
    [sdist] = (tmp_path / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    [top] = (tmp_path / "unpacked").iterdir()
    top.rename(tmp_path / "mailguard")
    env = _tool_env(tmp_path)
    tools = Path(sys.executable).parent

    out = subprocess.run([str(tools / "pipx"), "install", "./mailguard"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=800)  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    installed = tmp_path / "bin" / "mailguard-mcp"
    assert (tmp_path / "bin" / "mailguard").exists()
    version = subprocess.run([str(installed), "--version"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert version.returncode == 0 and version.stdout.startswith("mailguard-mcp "), version
    python = tmp_path / "pipx" / "venvs" / "mailguard" / "bin" / "python"
    where = _run([str(python), "-c", "import mailguard_mcp; print(mailguard_mcp.__file__)"],
                 cwd=tmp_path)  # fmt: skip
    assert where.strip().startswith(str(tmp_path / "pipx")), where  # not the checkout
    await _demo_answers(str(installed), ["demo"], env, tmp_path)

    uvx = str(tools / "uvx")
    version = subprocess.run([uvx, "--from", "./mailguard", "mailguard-mcp", "--version"],
                             cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=800)  # fmt: skip
    assert version.returncode == 0, version.stdout[-3000:] + version.stderr[-3000:]
    assert version.stdout.startswith("mailguard-mcp ")
    await _demo_answers(uvx, ["--from", "./mailguard", "mailguard-mcp", "demo"], env, tmp_path)

    # the README's alternative to pipx: uv tool install (uv's cache is warm from uvx)
    assert "uv tool install ./mailguard" in readme
    _run([str(tools / "uv"), "tool", "install", "./mailguard"], cwd=tmp_path, env=env)
    version = subprocess.run([str(tmp_path / "uv-bin" / "mailguard-mcp"), "--version"],
                             cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=120)  # fmt: skip
    assert version.returncode == 0 and version.stdout.startswith("mailguard-mcp "), version
