"""Startup: the CLI server imports plainly (no rewriting of ``sys.modules``), loads nothing
heavy before ``tools/list`` (the sanitizer, mail and keyring libraries load on the first call
that needs them), and the command line answers ``--version`` and a config error without the
SDK."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.mcp.wire import RawSession, raw_session

#: loaded by the first call that needs them, never by startup
HEAVY = (
    "mailguard_core.sanitize",
    "lxml",
    "nh3",
    "publicsuffixlist",
    "jsonschema",
    "imapclient",
    "imaplib",
    "keyring",
    "smtplib",
    # the stdlib's header registry (email.policy): only building, confirming or parsing a
    # message needs it; the SDK itself loads email.message and email.parser, not these
    "email.policy",
    "email.headerregistry",
    "email._header_value_parser",
    # only a configuration file is TOML (the demo builds its Config)
    "tomllib",
)

#: logs every module the server process imports (a meta path finder sees importlib's too)
_SITECUSTOMIZE = """
import os, sys
_log = open(os.environ["MAILGUARD_TEST_IMPORT_LOG"], "a", buffering=1, encoding="utf-8")
class _Recorder:
    @staticmethod
    def find_spec(name, path=None, target=None):
        _log.write(name + "\\n")
sys.meta_path.insert(0, _Recorder)
"""

_NONCE = re.compile(r"nonce=[0-9A-Za-z_-]+")
#: the demo copy's internal dates are the time it was materialized
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")


def _import_logging_env(tmp_path: Path, name: str) -> tuple[dict[str, str], Path]:
    hook_dir = tmp_path / "hook"
    hook_dir.mkdir(exist_ok=True)
    (hook_dir / "sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
    log = tmp_path / f"{name}.imports"
    path = os.pathsep.join(p for p in (str(hook_dir), os.environ.get("PYTHONPATH", "")) if p)
    env = {
        "PYTHONPATH": path,
        "MAILGUARD_TEST_IMPORT_LOG": str(log),
    }
    return env, log


def _imported(log: Path) -> set[str]:
    return set(log.read_text(encoding="utf-8").split())


def _loaded(modules: set[str], package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in modules)


async def _exchange(session: RawSession) -> list[Any]:
    """A newcomer's first calls: search the demo inbox, then read the first message."""
    search = await session.request(
        "tools/call", {"name": "search", "arguments": {"subject": "Quarterly"}}
    )
    ref = search["structuredContent"]["items"][0]["meta"]["message_ref"]
    fetched = await session.request(
        "tools/call", {"name": "fetch_message", "arguments": {"message_ref": ref}}
    )
    denied = await session.request(
        "tools/call", {"name": "send_email", "arguments": {"to": ["a@b.example"]}}
    )
    return [search, fetched, denied]


def _normalized(replies: list[Any]) -> str:
    return _STAMP.sub("T", _NONCE.sub("nonce=N", repr(replies)))


@pytest.mark.anyio
async def test_the_cli_server_lists_its_tools_without_loading_heavy_modules(
    tmp_path: Path,
) -> None:
    """``mailguard-mcp demo`` (the CLI path) lists its tools before importing the sanitizer or
    any mail/keyring library, and then serves the first calls (which load them)."""
    env, log = _import_logging_env(tmp_path, "demo")
    async with raw_session(["demo"], env=env, stderr=tmp_path / "demo.err") as session:
        await session.initialize()
        listed = await session.request("tools/list")
        before_list = _imported(log)
        search, fetched, denied = await _exchange(session)
    assert "mailguard_mcp.server" in before_list and "mcp.server.lowlevel" in before_list
    assert [m for m in HEAVY if _loaded(before_list, m)] == []
    assert len(listed["tools"]) > 0
    assert search["structuredContent"]["items"] and not fetched.get("isError")
    assert denied["isError"]  # a send without its arguments is refused
    assert _loaded(_imported(log), "mailguard_core.sanitize")


def _python(code: str) -> str:
    """Run ``code`` in a fresh interpreter (this one has the SDK imported already)."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_sdk_is_the_installed_package_and_the_command_line_does_not_need_it() -> None:
    """No module of the SDK is replaced: importing the server binds the real ``mcp``
    package; ``--version`` and ``--help`` of the command line import neither the SDK nor the
    composition root."""
    out = _python(
        """
        import sys, types, contextlib, io
        from mailguard_mcp import cli
        with contextlib.redirect_stdout(io.StringIO()):
            cli.main(["--version"])
            try:
                cli.main(["--help"])
            except SystemExit:
                pass
        before = sorted(m for m in sys.modules if m == "mcp" or m.startswith(("mcp.",
                        "mailguard_core.app.bootstrap", "mailguard_mcp.server")))
        import mailguard_mcp.server
        import mcp
        assert type(mcp) is types.ModuleType and mcp.__spec__.origin.endswith("__init__.py")
        print(before)
        """
    )
    assert out.strip() == "[]"
