"""Golden check for changes that must not change what a tool answers (refactors of the use
cases, the result values and the wire shaping).

    PYTHONHASHSEED=0 python bench/wire_golden.py write BEFORE.jsonl
    ... change the code ...
    PYTHONHASHSEED=0 python bench/wire_golden.py check BEFORE.jsonl

``write`` calls every tool over the two faces and records, per call, everything a client
gets: over MCP (the real ``mcp`` client, in process) the ``text`` a model reads, the
``structuredContent`` (as JSON, key order kept) and ``isError``; over the library
(``MailguardApp.call``) the envelope (as JSON) or the error's code and public text; and the
audit end records (the result summary). The calls:

- the bundled demo mailbox (``mailguard-mcp demo``): ``tools/list``, every folder listed and
  searched page by page, every message fetched (text and HTML) with its labels, every
  attachment listed, saved and read, and the tools the demo posture allows or refuses;
- the test harness's full-posture account (``tests/mcp/harness.py``): every tool once with
  ``arguments_for`` (``tests/mcp/test_server_tools.py``), in the table's order.

What differs between two runs is made fixed: the search cursors' signing key, the fence
nonce (replaced by ``NONCE``), time stamps, the audit log's salt and pseudonyms, the
test PDF's creation time (reportlab's ``invariant``), the random parts of
Message-IDs and the temporary directory. ``check`` computes the same and prints every line
that differs (exit status 1). Nothing here is timed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_NONCE_RE = re.compile(r"nonce=[0-9a-f]{8,64}")
_MSGID_RE = re.compile(r"<[^<>@\s]{6,}@(?:[^<>\s]+)>")
#: audit fields that differ between runs (time and the hash chain over it)
_VOLATILE = ("ts", "ms", "hash", "prev", "call_id", "session", "pid", "salt")
#: an audit pseudonym (keyed by the log's random salt)
_PSEUDONYM_RE = re.compile(r"p:[0-9a-f]{32}")
#: a time stamp of today: the demo messages' internal dates are their files' times
_TODAY_RE = re.compile(
    dt.datetime.now(dt.UTC).strftime("%Y-%m-%d") + r"[T ]\d\d:\d\d(?::\d\d)?(?:Z|\+00:00)?"
)


def _fixed(text: str, tmp: str) -> str:
    text = _NONCE_RE.sub("nonce=NONCE", text)
    text = text.replace(tmp, "TMP")
    text = _TODAY_RE.sub("TODAY", text)
    text = _PSEUDONYM_RE.sub("p:PSEUDONYM", text)
    return _MSGID_RE.sub("<MSGID>", text)


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


async def _mcp_calls(server: Any, calls: list[tuple[str, dict[str, Any]]]) -> Iterator[str]:
    from mcp import Client

    out: list[str] = []
    async with Client(server) as client:
        listed = await client.list_tools()
        out.append("tools/list " + _dump([t.model_dump(mode="json") for t in listed.tools]))
        for name, arguments in calls:
            result = await client.call_tool(name, arguments)
            text = "".join(getattr(c, "text", "") for c in result.content)
            out.append(f"mcp {name} {_dump(arguments)} error={result.is_error}")
            out.append("  text " + _dump(text))
            out.append("  structured " + _dump(result.structured_content))
    return iter(out)


def _demo_calls(root: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every reading call on the demo mailbox, found by listing it through the library."""
    from mailguard_mcp import serve_cli
    from mailguard_mcp.demo import FOLDERS

    calls: list[tuple[str, dict[str, Any]]] = [("list_accounts", {}), ("list_folders", {})]
    with serve_cli.demo_app(root) as app:
        for folder in FOLDERS:
            arguments: dict[str, Any] = {"folder": folder, "limit": 7}
            for _ in range(20):
                calls.append(("search", dict(arguments)))
                page = app.call("search", arguments)
                for item in page["items"]:
                    ref = item["meta"]["message_ref"]
                    calls.append(("fetch_message", {"message_ref": ref}))
                    calls.append(("fetch_message_html", {"message_ref": ref}))
                    calls.append(("list_labels", {"message_ref": ref}))
                    calls.append(("list_attachments", {"message_ref": ref}))
                    listing = app.call("list_attachments", {"message_ref": ref})
                    for part in listing["untrusted"]["attachments"]:
                        one = {"message_ref": ref, "part_id": part["part_id"]}
                        calls.append(("download_attachment", one))
                        calls.append(("read_attachment", one))
                        calls.append(("read_attachment", {**one, "max_chars": 300}))
                    calls.append(("fetch_message", {"message_ref": ref, "max_body_chars": 200}))
                cursor = page["meta"]["next_cursor"]
                if cursor is None:
                    break
                arguments["cursor"] = cursor
    calls += [
        ("search", {"folder": "INBOX", "subject": "invoice", "limit": 3}),
        ("search", {"folder": "INBOX", "seen": False, "has_attachment": True}),
        ("search_advanced", {"query": 'OR SUBJECT "invoice" FROM "paypal"', "limit": 4}),
        ("search", {"folder": "Nope"}),
        ("search", {"folder": "INBOX", "since": "2026-13-01"}),
        ("fetch_message", {"message_ref": "demo:INBOX:1000:999"}),
        ("fetch_message", {"message_ref": "nonsense"}),
        ("read_attachment", {"message_ref": "demo:INBOX:1000:1", "part_id": "9"}),
        ("download_attachment", {"message_ref": "demo:INBOX:1000:1", "part_id": "9"}),
        ("mark_read", {"message_refs": ["demo:INBOX:1000:2"]}),
        ("add_label", {"message_refs": ["demo:INBOX:1000:2"], "label": "$Todo"}),
        ("list_labels", {"message_ref": "demo:INBOX:1000:2"}),
        ("create_draft", {"to": ["ann@colleagues.example"], "subject": "Hi", "body": "Hello"}),
        ("send_email", {"to": ["ann@colleagues.example"], "subject": "Hi", "body": "Hello"}),
        ("move_message", {"message_refs": ["demo:INBOX:1000:2"], "destination": "Archive"}),
        ("delete_message", {"message_refs": ["demo:INBOX:1000:2"]}),
        ("use_account", {"account": "demo"}),
        ("use_account", {"account": "nobody"}),
        ("no_such_tool", {}),
    ]
    return calls


def _library(app: Any, calls: list[tuple[str, dict[str, Any]]]) -> Iterator[str]:
    from mailguard_core.model.errors import MailguardError

    for name, arguments in calls:
        try:
            result = app.call(name, arguments)
        except MailguardError as exc:
            yield f"lib {name} {_dump(arguments)} raised {exc.code}: {exc.public_message}"
        else:
            yield f"lib {name} {_dump(arguments)} " + _dump(result)


def _audit_lines(records: list[dict[str, Any]]) -> Iterator[str]:
    for record in records:
        yield "audit " + _dump({k: v for k, v in record.items() if k not in _VOLATILE})


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _demo(tmp: Path) -> list[str]:
    from mailguard_mcp import serve_cli
    from mailguard_mcp.server import build_server

    lines: list[str] = []
    calls = _demo_calls(tmp / "listing")
    root = tmp / "demo-mcp"
    server = build_server(lambda: serve_cli.demo_app(root))
    lines += asyncio.run(_mcp_calls(server, calls))
    lines += _audit_lines(_read_jsonl(_audit_file(root)))
    root = tmp / "demo-lib"
    with serve_cli.demo_app(root) as app:
        lines += _library(app, calls)
    lines += _audit_lines(_read_jsonl(_audit_file(root)))
    return lines


def _audit_file(root: Path) -> Path:
    found = sorted(root.rglob("*.jsonl"))
    return found[0] if found else root / "none.jsonl"


def _harness(tmp: Path) -> list[str]:
    from tests.mcp.harness import account, limits, make_harness
    from tests.mcp.test_server_tools import arguments_for

    from mailguard_core.model.tools import ToolName

    lines: list[str] = []
    for face in ("mcp", "lib"):
        h = make_harness(tmp / f"harness-{face}", account(limits=limits(100, 100)))
        refs = h.seed()
        calls = [(t.value, arguments_for(t, refs)) for t in ToolName]
        if face == "mcp":
            lines += asyncio.run(_mcp_calls(h.server(), calls))
        else:
            with h.open() as app:
                lines += _library(app, calls)
        lines += _audit_lines([dict(r) for r in h.audit.records])
    return lines


def record() -> list[str]:
    from mailguard_core.search import cursor

    cursor._KEY = b"k" * 32  # type: ignore[attr-defined]  # the same cursors every run
    from reportlab import rl_config

    rl_config.invariant = 1  # the harness's PDF without its creation time
    tmp = Path(tempfile.mkdtemp(prefix="wire-golden-"))
    try:
        lines = _demo(tmp) + _harness(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [_fixed(line, str(tmp)) for line in lines]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("write", "check"))
    parser.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    if os.environ.get("PYTHONHASHSEED") != "0":
        print("run with PYTHONHASHSEED=0 (the harness's Message-IDs hash the subject)")
        return 2
    lines = record()
    if args.mode == "write":
        args.file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {len(lines)} lines to {args.file}")
        return 0
    before = args.file.read_text(encoding="utf-8").splitlines()
    differ = [(i, a, b) for i, (a, b) in enumerate(zip(before, lines, strict=False), 1) if a != b]
    if len(before) != len(lines):
        print(f"line counts differ: {len(before)} before, {len(lines)} now")
    for index, old, new in differ[:20]:
        print(f"line {index}:\n  before {old[:400]}\n  now    {new[:400]}")
    print(f"{len(lines)} lines, {len(differ)} differ")
    return 1 if differ or len(before) != len(lines) else 0


if __name__ == "__main__":
    raise SystemExit(main())
