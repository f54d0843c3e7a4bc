"""mailguard without the POSIX-only modules, as on Windows: every module of both packages
imports, the demo server serves a real MCP client, and the audit log keeps one writer.

Each process here runs with ``tests/support/posixless`` first on ``PYTHONPATH``: its
``sitecustomize`` makes ``fcntl``, ``pwd``, ``grp``, ``resource``, ``termios`` (and the other
POSIX-only modules) raise ``ModuleNotFoundError``, and reports at exit who asked for which.
The one import it lets through is the MCP SDK's ``fcntl`` in its stdio transport, which sits
behind ``if sys.platform != "win32"`` (checked below). Linux still has ``os.O_NOFOLLOW`` and
friends: the paths taken where those are missing are tested in ``tests/unit/test_portable.py``.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import anyio
import pytest

from mailguard_core.adapters.jsonl_audit import verify_log
from mailguard_mcp.demo import materialize
from mcp import Client, StdioServerParameters

SRC = Path(__file__).resolve().parents[2] / "src"
BLOCKER = Path(__file__).resolve().parents[1] / "support" / "posixless"
BLOCKED = ("fcntl", "grp", "pwd", "resource", "termios")
LOCKED = "the audit log is locked by another mailguard process"


def _env(report: Path) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(BLOCKER), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "MAILGUARD_POSIXLESS_REPORT": str(report)}


def _reports(report: Path) -> list[dict[str, Any]]:
    found = sorted(report.parent.glob(f"{report.name}.*"))
    return [json.loads(f.read_text(encoding="utf-8")) for f in found]


def _run(code: str, report: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env=_env(report),
    )


def _assert_only_guarded_imports(reports: list[dict[str, Any]]) -> None:
    """The one import let through is the SDK's guarded one. (mailguard's own refused attempts
    are function-level imports that handle ImportError, such as the attachment child's
    ``resource``: a module-level one would have failed the import test.)"""
    for r in reports:
        assert set(r["let_through"]) <= {"mcp.server.stdio:fcntl"}, r


def _by_program(reports: list[dict[str, Any]], tail: str) -> list[dict[str, Any]]:
    return [r for r in reports if r["argv"] and r["argv"][0].replace("\\", "/").endswith(tail)]


def test_the_one_import_let_through_is_behind_a_windows_guard_in_the_sdk() -> None:
    """The blocker lets ``mcp.server.stdio`` import fcntl because on Windows that line never
    runs: check the guard in the installed SDK's source, so an SDK release that drops it
    fails here instead of passing silently."""
    import mcp.server.stdio

    tree = ast.parse(Path(mcp.server.stdio.__file__).read_text(encoding="utf-8"))
    guarded = [
        alias.name
        for node in tree.body
        if isinstance(node, ast.If)
        and ast.unparse(node.test) in ("sys.platform != 'win32'", 'sys.platform != "win32"')
        for inner in node.body
        if isinstance(inner, ast.Import)
        for alias in inner.names
    ]
    unguarded = [
        alias.name
        for node in tree.body
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name in BLOCKED
    ]
    assert guarded == ["fcntl"]
    assert unguarded == []


def _modules() -> list[str]:
    """Every module of both packages, from the source tree (not from the import system)."""
    names = []
    for file in sorted(SRC.rglob("*.py")):
        parts = list(file.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts[-1] != "__main__":  # runs the CLI: started below with -m instead
            names.append(".".join(parts))
    return names


def test_the_blocker_blocks() -> None:
    """The premise: under the blocker each POSIX-only module is missing as on Windows, and
    the standard library still imports (it guards its own POSIX imports)."""
    out = _run(
        """
        import importlib, json, shutil, subprocess, tempfile, getpass, pathlib
        missing = []
        for name in ("fcntl", "pwd", "grp", "resource", "termios", "tty", "pty"):
            try:
                importlib.import_module(name)
            except ModuleNotFoundError:
                missing.append(name)
        print(json.dumps(missing))
        """,
        Path(os.devnull),
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == ["fcntl", "pwd", "grp", "resource", "termios", "tty", "pty"]


def test_every_module_of_both_packages_imports_without_posix_only_modules(
    tmp_path: Path,
) -> None:
    """Import each module of mailguard_core and mailguard_mcp (a module importing fcntl & co.
    at module level fails here), run both CLIs' --help, and check no blocked module loaded."""
    modules = _modules()
    assert {"mailguard_core.adapters.jsonl_audit", "mailguard_mcp.server"} <= set(modules)
    report = tmp_path / "report"
    out = _run(
        """
        import importlib, json, sys
        failed = {}
        for name in sys.argv[1:]:
            try:
                importlib.import_module(name)
            except Exception as exc:
                failed[name] = f"{type(exc).__name__}: {exc}"
        print(json.dumps({"imported": len(sys.argv) - 1 - len(failed), "failed": failed}))
        """,
        report,
        *modules,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["failed"] == {}
    assert result["imported"] == len(modules)
    for cli in ("mailguard_mcp", "mailguard_core.app.cli"):
        helped = subprocess.run(
            [sys.executable, "-m", cli, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            env=_env(report),
        )
        assert helped.returncode == 0, helped.stderr
        assert "usage" in helped.stdout.lower()
    reports = _reports(report)
    assert len(reports) == 3
    _assert_only_guarded_imports(reports)
    # filelock asked for fcntl and did without: the blocker was in the way
    assert "filelock._native._unix:fcntl" in reports[0]["refused"]


def test_the_audit_lock_keeps_one_writer_without_fcntl(tmp_path: Path) -> None:
    """Without fcntl.flock filelock uses its soft lock: a second sink, in this process or in
    another one, is refused with the documented message naming the holder's pid."""
    path = tmp_path / "audit.jsonl"
    report = tmp_path / "report"
    out = _run(
        """
        import json, os, subprocess, sys
        import filelock
        from mailguard_core.adapters.jsonl_audit import JsonlAuditSink
        from mailguard_core.model.errors import AuditLocked
        second = "import sys\\nfrom mailguard_core.adapters.jsonl_audit import JsonlAuditSink\\n"
        second += "JsonlAuditSink(sys.argv[1])\\n"
        result = {"lock": filelock.FileLock.__name__}
        with JsonlAuditSink(sys.argv[1]) as first:
            start = first.write({"kind": "call_start", "tool": "search"})
            try:
                JsonlAuditSink(sys.argv[1])
            except AuditLocked as exc:
                result["same_process"] = [exc.public_message, str(exc)]
            other = subprocess.run([sys.executable, "-c", second, sys.argv[1]],
                                   capture_output=True, text=True, timeout=60)
            result["other_process"] = [other.returncode, other.stderr[-2000:]]
            first.write({"kind": "call_end", "start_seq": start, "outcome": "ok"})
        result["pid"] = os.getpid()
        print(json.dumps(result))
        """,
        report,
        str(path),
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["lock"] == "SoftFileLock"
    public, detail = result["same_process"]
    assert public == LOCKED
    assert f"(pid {result['pid']})" in detail
    code, stderr = result["other_process"]
    assert code == 1
    assert "AuditLocked" in stderr and f"(pid {result['pid']})" in stderr
    report_ = verify_log(path)
    assert report_.ok and report_.records == 4  # log_open, two records, log_close
    reports = _reports(report)
    assert len(reports) == 2
    _assert_only_guarded_imports(reports)


def _demo_config(tmp_path: Path) -> Path:
    materialize(tmp_path / "Maildir")
    path = tmp_path / "config.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [[accounts]]
            name = "local"
            address = "me@local.example"
            maildir = "{tmp_path / "Maildir"}"
            [audit]
            path = "{tmp_path / "audit.jsonl"}"
            """
        ),
        encoding="utf-8",
    )
    return path


def _server(report: Path, *args: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "mailguard_mcp", *args], env=_env(report)
    )


@pytest.mark.anyio
async def test_the_demo_server_serves_the_mcp_client_without_posix_only_modules(
    tmp_path: Path,
) -> None:
    """``mailguard-mcp demo`` under the blocker: the SDK's client lists the tools, searches,
    reads a message with its warnings and a PDF attachment (read in a child process, which
    then goes without its ``resource`` limits as on Windows)."""
    report = tmp_path / "report"
    with anyio.fail_after(60):
        async with Client(_server(report, "demo")) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            found = await client.call_tool("search", {"subject": "Quarterly"})
            assert found.is_error is not True, found
            assert found.structured_content is not None
            ref = found.structured_content["items"][0]["meta"]["message_ref"]
            message = await client.call_tool("fetch_message", {"message_ref": ref})
            invoice = await client.call_tool("search", {"subject": "Corrected invoice"})
            assert invoice.structured_content is not None
            [item] = invoice.structured_content["items"]
            pdf = await client.call_tool(
                "read_attachment", {"message_ref": item["meta"]["message_ref"], "part_id": "2"}
            )
    assert {"search", "fetch_message", "list_folders", "read_attachment"} <= tools
    assert message.is_error is not True
    assert message.structured_content is not None
    codes = {w["code"] for w in message.structured_content["security_warnings"]}
    assert "html_hidden_content_removed" in codes
    assert pdf.is_error is not True, pdf.content
    assert pdf.structured_content is not None
    assert "Total due EUR 218.70" in pdf.structured_content["untrusted"]["text"]
    reports = _reports(report)
    _assert_only_guarded_imports(reports)
    [server] = _by_program(reports, "mailguard_mcp/__main__.py")
    assert "filelock._native._unix:fcntl" in server["refused"]
    children = _by_program(reports, "extract/child.py")
    assert children, reports
    assert all("mailguard_core.sanitize.extract.run:resource" in c["refused"] for c in children)


@pytest.mark.anyio
async def test_two_servers_on_one_audit_log_the_second_is_refused_without_fcntl(
    tmp_path: Path,
) -> None:
    """Two ``mailguard-mcp serve`` on one config, both without POSIX-only modules: the second
    stops at startup with exit code 1 and the documented message naming the first's pid; the
    first keeps serving and its log verifies with a single writer."""
    config = _demo_config(tmp_path)
    report = tmp_path / "report"
    with anyio.fail_after(90):
        async with Client(_server(report, "serve", "--config", str(config))) as client:
            before = await client.call_tool("list_folders", {})
            second = await anyio.to_thread.run_sync(
                lambda: subprocess.run(
                    [sys.executable, "-m", "mailguard_mcp", "serve", "--config", str(config)],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    stdin=subprocess.DEVNULL,
                    env=_env(report),
                )
            )
            after = await client.call_tool("search", {"subject": "Quarterly"})
    assert before.is_error is not True and after.is_error is not True
    assert second.returncode == 1, second.stderr
    assert LOCKED in second.stderr
    assert "Traceback" not in second.stderr
    log = tmp_path / "audit.jsonl"
    records = [json.loads(line) for line in log.read_text(encoding="ascii").splitlines()]
    opens = [r for r in records if r["kind"] == "log_open"]
    assert len(opens) == 1
    assert f"(pid {opens[0]['pid']})" in second.stderr
    assert [r["kind"] for r in records].count("call_start") == 2
    assert records[-1]["kind"] == "log_close"
    assert verify_log(log).ok
    reports = _reports(report)
    assert len(reports) == 2  # both servers ran under the blocker
    _assert_only_guarded_imports(reports)
    assert all("filelock._native._unix:fcntl" in r["refused"] for r in reports)
