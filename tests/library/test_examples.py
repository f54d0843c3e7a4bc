"""The examples run as written: ``examples/library_demo.py`` as a script, and the LangChain
tools of ``examples/langchain_tools.py`` called directly, as an agent would call them (no
language model involved)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from mailguard_core import AccountConfig, Config, InMemoryAuditSink, Posture, ToolName, open_mailbox
from mailguard_mcp.demo import materialize

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"


def _run(script: str) -> str:
    done = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLES / script)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def test_the_library_demo_searches_fetches_and_is_refused_a_send() -> None:
    out = _run("library_demo.py")
    assert re.search(r"^search: 10 of \d+ messages$", out, re.MULTILINE)
    assert len(re.findall(r"^  demo:INBOX:1000:\d+  '", out, re.MULTILINE)) == 10
    assert re.search(r"^fetch: demo:INBOX:1000:\d+\n  warning adversarial: ", out, re.MULTILINE)
    assert "send: refused: tool_denied: this tool is not available" in out
    assert out.rstrip().endswith(
        "audit:\n  search: ok\n  fetch_message: ok\n  send_email: refused tool_denied"
    )


def test_the_langchain_example_runs() -> None:
    out = _run("langchain_tools.py")
    first = out.splitlines()[0]
    assert first == (
        "tools: list_folders, search, fetch_message, list_attachments, download_attachment, "
        "read_attachment, list_labels"
    )
    assert re.search(r"^INBOX: 2 of \d+ hits", out, re.MULTILINE)
    assert "<<untrusted nonce=" in out


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "langchain_tools", EXAMPLES / "langchain_tools.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("posture", list(Posture))
def test_langchain_gets_exactly_the_postures_tools_and_each_call_is_gated_and_audited(
    tmp_path: Path, example: ModuleType, posture: Posture
) -> None:
    from langchain_core.tools import BaseTool

    materialize(tmp_path / "Maildir")
    config = Config(
        accounts=(
            AccountConfig(
                name="demo",
                address="you@demo.example",
                posture=posture,
                maildir=str(tmp_path / "Maildir"),
                download_dir=str(tmp_path / "downloads"),
            ),
        ),
    )
    audit = InMemoryAuditSink()
    with open_mailbox(config, audit=audit) as mailbox:
        tools = {tool.name: tool for tool in example.mailguard_tools(mailbox)}
        assert all(isinstance(tool, BaseTool) for tool in tools.values())
        expected = mailbox.allowed_tools() - {ToolName.LIST_ACCOUNTS, ToolName.USE_ACCOUNT}
        assert set(tools) == {t.value for t in expected}
        # the listed schema is the compact one: a model sees types, not the enforced bounds
        assert tools["search"].args["limit"]["maximum"] == 100
        page = tools["search"].invoke({"subject": "invoice", "limit": 2})
        assert re.match(r"INBOX: 2 of \d+ hits", page)
        message = tools["fetch_message"].invoke({"message_ref": "demo:INBOX:1000:20"})
        assert "display_name_spoof" in message
        assert message.index("display_name_spoof") < message.index("<<untrusted nonce=")
        # bad arguments and foreign refs: mailguard's refusal as text, not an exception
        bad = tools["search"].invoke({"limit": 1000})
        assert bad == "error invalid_input: argument limit is too large"
        if "move_message" in tools:
            moved = tools["move_message"].invoke(
                {"message_refs": ["demo:INBOX:1000:1"], "destination": "Sent"}
            )
            assert moved.startswith("error folder_protected")
    ends = audit.of_kind("call_end")
    outcomes = [(r["outcome"], r.get("code")) for r in ends]
    assert outcomes[:3] == [("ok", None), ("ok", None), ("error", "invalid_input")]
    if posture is not Posture.READONLY:
        assert outcomes[3] == ("refused", "folder_protected")
    assert (
        len(ends) == len(audit.of_kind("call_start")) == (3 if posture is Posture.READONLY else 4)
    )


def test_the_readme_snippet_works_as_written(tmp_path: Path) -> None:
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it from Python", 1)[1]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(snippet.strip().splitlines()) == 5
    materialize(tmp_path / "Maildir")
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[audit]
path = "{tmp_path / "audit.jsonl"}"
[[accounts]]
name = "demo"
address = "you@demo.example"
posture = "readonly"
maildir = "{tmp_path / "Maildir"}"
download_dir = "{tmp_path / "downloads"}"
""",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", snippet],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "MAILGUARD_CONFIG": str(config)},
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "audit.jsonl").read_text(encoding="utf-8").count('"call_end"') == 1
    audit = InMemoryAuditSink()
    with open_mailbox(config, audit=audit) as mailbox:
        page = mailbox.search("INBOX", limit=5)
    expected = [f"{h['meta']['message_ref']} {h['untrusted']['subject']}" for h in page["items"]]
    assert len(expected) == 5
    assert done.stdout.splitlines() == expected


def test_the_documented_public_api_is_exactly_all() -> None:
    import mailguard_core

    text = (EXAMPLES.parent / "docs" / "library.md").read_text(encoding="utf-8")
    table = text.split("## Public API", 1)[1].split("\n## ", 1)[0]
    names = [line.split("`")[1] for line in table.splitlines() if line.startswith("| `")]
    assert len(names) == len(set(names))
    assert set(names) == set(mailguard_core.__all__)


def test_the_documented_methods_are_exactly_the_tools() -> None:
    text = (EXAMPLES.parent / "docs" / "library.md").read_text(encoding="utf-8")
    section = text.split("## Methods: one per tool", 1)[1].split("Message refs are", 1)[0]
    listed = {part.strip(" `.\n") for part in section.split(":", 1)[1].split(",")}
    assert listed == {t.value for t in ToolName}
