"""Characters a model reads per operation: mailguard side by side with mcp-email-server.

    python bench/chars.py               # both servers (installs the peer once, see bench/peer.py)
    python bench/chars.py --skip-peer   # mailguard only

One private Dovecot (``tests/support/dovecot.py``) holds one folder: the first 1,000 messages
of the deterministic bench generator (``bench/generator.py``, seed 0) plus three attack
messages of the demo mailbox (a deceptive link, a display-name spoof, a prompt injection),
appended as the newest. Both servers are spoken to over MCP stdio with the real ``mcp`` client
(``bench/common.py``), exactly like ``bench/run.py``.

What is counted is what a model reads: the ``text`` of a tool result's content (the
``structuredContent`` is for programs and is not counted), and for ``tools/list`` the JSON of
each tool as the server sends it (name, title, description, input and output schema,
annotations). "model part" is the name, description and input schema only: the part every
client puts in front of the model. Sizes are Python ``len`` (code points).

Operations (the same messages on both sides; tool matching as in ``bench/peer.py``):

* ``tools/list``: per posture (mailguard's four postures; the peer has one list) and per tool;
* search page of 20: ``search(limit=20)`` <-> ``list_emails_metadata(page_size=20)``;
* fetch: a plain text message, an HTML newsletter, the deceptive-link attack message and the
  injection attack message: ``fetch_message`` <-> ``get_emails_content``;
* attachments of a message with three: ``list_attachments`` <-> (the peer has no such tool: its
  ``get_emails_content`` lists attachment names; shown as "n/a").

For a fetch, "body" is the number of characters of the sanitized body text
(``structuredContent.untrusted.body_text``) and "overhead" is text minus body: what the
envelope, headers, warnings and fences add around it.

Targets (issue 14; reported, never asserted): search page <= half the peer's characters;
``tools/list`` <= 700 characters per tool on average; a fetch of a message with no warnings
<= body + 400 characters.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``tests`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import peer as peer_mod
from bench.common import WORK_DIR, McpStdioSession, Results, environment_info
from bench.generator import generate_messages
from bench.run import (
    ACCOUNT,
    PASSWORD,
    USER,
    Floor,
    _mail_owner,
    mailguard_spec,
    open_session,
    peer_spec,
    seed_folders,
)

SIZE = 1_000
FOLDER = "Bench1k"
#: demo messages appended to the bench folder (name in the demo mailbox -> label)
ATTACKS = {
    "INBOX/24-link-mismatch.eml": "attack: deceptive link",
    "INBOX/23-display-name-spoof.eml": "attack: display-name spoof",
    "INBOX/26-injection.eml": "attack: injection",
}


def _text(result: Any) -> str:
    return "\n".join(getattr(c, "text", "") or "" for c in result.content)


def _tool_json(tool: Any) -> str:
    return json.dumps(
        tool.model_dump(by_alias=True, exclude_none=True, mode="json"),
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _model_part(tool: Any) -> int:
    schema = getattr(tool, "input_schema", None) or getattr(tool, "inputSchema", None) or {}
    return (
        len(tool.name)
        + len(tool.description or "")
        + len(json.dumps(schema, separators=(",", ":")))
    )


def _append_attacks(server: Any) -> list[str]:
    """Copy the demo's attack messages into the bench folder as its newest messages."""
    from mailguard_mcp import demo

    mail = Path(demo.__file__).parent / "mail"
    cur = server.folder_dir(USER, FOLDER) / "cur"
    owner = _mail_owner()
    stamp = int(time.time())
    labels = []
    for i, (name, label) in enumerate(ATTACKS.items()):
        raw = (mail / name).read_bytes()
        dest = cur / f"{stamp + i}.M{SIZE + i}P0.bench,S={len(raw)}:2,S"
        dest.write_bytes(raw)
        os.utime(dest, (stamp + i, stamp + i))
        if owner is not None:
            os.chown(dest, *owner)
        labels.append(label)
    return labels


def _pick(floor: Floor) -> dict[str, int]:
    """UIDs of the messages measured: the first plain, newsletter and 3-attachment ones."""
    uids = floor.all_uids(FOLDER)
    picks: dict[str, int] = {}
    for msg in generate_messages(SIZE):
        raw = msg.raw
        if "plain" not in picks and msg.kind == "plain" and b"AI assistant" not in raw:
            picks["plain"] = uids[msg.index]
        if "html" not in picks and msg.kind == "newsletter":
            picks["html"] = uids[msg.index]
        if "attachments" not in picks and msg.kind == "attachments" and raw.count(b"filename") >= 3:
            picks["attachments"] = uids[msg.index]
        if len(picks) == 3:
            break
    for i, label in enumerate(ATTACKS.values()):
        picks[label] = uids[SIZE + i]
    return picks


async def measure(server: Any, work: Path, *, skip_peer: bool, peer_version: str) -> dict[str, Any]:
    from mailguard_core.model.tools import Posture, ToolName, posture_allows
    from mailguard_mcp.server import listed_tools

    floor = Floor(server)
    picks = _pick(floor)
    uidvalidity = {FOLDER: floor.uidvalidity[FOLDER]}
    floor.close()
    out: dict[str, Any] = {"picks": picks, "tools": {}, "ops": {}}
    # -- tools/list of mailguard per posture, computed from the server's own list function
    for posture in Posture:
        allowed = frozenset(t for t in ToolName if posture_allows(posture, t))
        tools = listed_tools(allowed)
        out["tools"][f"mailguard {posture.value}"] = {
            "tools": len(tools),
            "chars": sum(len(_tool_json(t)) for t in tools),
            "model": sum(_model_part(t) for t in tools),
            "per_tool": {t.name: (len(_tool_json(t)), _model_part(t)) for t in tools},
        }
    specs = {"mailguard": mailguard_spec(server, work, uidvalidity)}
    if os.environ.get("PYTHONPATH"):  # measuring another checkout's src (e.g. a "before")
        specs["mailguard"].env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    if not skip_peer:
        script = peer_mod.ensure_peer(peer_version)
        specs["peer"] = peer_spec(server, work, script)
    async with contextlib.AsyncExitStack() as stack:
        sessions: dict[str, McpStdioSession] = {}
        for name, spec in specs.items():
            sessions[name] = await stack.enter_async_context(open_session(spec))
        if "peer" in sessions:
            tools = sessions["peer"].tools
            out["tools"]["peer"] = {
                "tools": len(tools),
                "chars": sum(len(_tool_json(t)) for t in tools),
                "model": sum(_model_part(t) for t in tools),
                "per_tool": {t.name: (len(_tool_json(t)), _model_part(t)) for t in tools},
            }
        for name, session in sessions.items():
            spec = specs[name]
            ops: dict[str, Any] = {}
            result = await session.call(spec.search_tool, spec.search_args(FOLDER, None))
            ops["search page of 20"] = {"chars": len(_text(result))}
            for label, uid in picks.items():
                if label == "attachments":
                    continue
                result = await session.call(spec.fetch_tool, spec.fetch_args(FOLDER, uid))
                entry: dict[str, Any] = {"chars": len(_text(result))}
                sc = getattr(result, "structured_content", None) or {}
                if name == "mailguard" and isinstance(sc, Mapping):
                    entry["body"] = len(str(sc.get("untrusted", {}).get("body_text", "")))
                    entry["warnings"] = len(sc.get("security_warnings", []))
                ops[f"fetch {label}"] = entry
            if name == "mailguard":
                args = {"message_ref": spec.fetch_args(FOLDER, picks["attachments"])["message_ref"]}
                result = await session.call("list_attachments", args)
                ops["list_attachments (3 files)"] = {"chars": len(_text(result))}
                out["samples"] = {
                    "search": _text(
                        await session.call(spec.search_tool, spec.search_args(FOLDER, None))
                    ),
                    "fetch": {
                        label: _text(
                            await session.call(spec.fetch_tool, spec.fetch_args(FOLDER, uid))
                        )
                        for label, uid in picks.items()
                        if label != "attachments"
                    },
                    "attachments": _text(result),
                }
            else:
                ops["list_attachments (3 files)"] = {"chars": None}
            out["ops"][name] = ops
    return out


def _fmt(n: Any) -> str:
    return "n/a" if n is None else f"{n:,}"


def report(data: Mapping[str, Any], results: Results) -> None:
    tools = data["tools"]
    rows = []
    for name, t in tools.items():
        n = t["tools"]
        rows.append(
            [
                name,
                n,
                _fmt(t["chars"]),
                _fmt(t["chars"] // n),
                _fmt(t["model"]),
                _fmt(t["model"] // n),
            ]
        )
    results.add(
        "tools_list",
        "tools/list: characters per posture",
        ["server / posture", "tools", "chars", "chars per tool", "model part", "model per tool"],
        rows,
        raw={k: {kk: vv for kk, vv in v.items() if kk != "per_tool"} for k, v in tools.items()},
        notes=[
            "chars: the JSON of every tool as sent (name, title, description, input and "
            "output schema, annotations); model part: name + description + input schema"
        ],
    )
    widest = tools["mailguard destructive"]["per_tool"]
    rows = [[tool, _fmt(c), _fmt(m)] for tool, (c, m) in widest.items()]
    if "peer" in tools:
        rows += [
            [f"(peer) {tool}", _fmt(c), _fmt(m)]
            for tool, (c, m) in tools["peer"]["per_tool"].items()
        ]
    results.add(
        "tools_per_tool",
        "tools/list: characters per tool",
        ["tool", "chars", "model part"],
        rows,
        raw={k: v["per_tool"] for k, v in tools.items()},
    )
    ops = data["ops"]
    mg = ops.get("mailguard", {})
    pe = ops.get("peer", {})
    rows = []
    for op, entry in mg.items():
        peer_chars = pe.get(op, {}).get("chars") if pe else None
        ratio = f"{entry['chars'] / peer_chars:.2f}" if peer_chars else "n/a"
        body = entry.get("body")
        rows.append(
            [
                op,
                _fmt(entry["chars"]),
                _fmt(peer_chars),
                ratio,
                _fmt(body),
                _fmt(None if body is None else entry["chars"] - body),
                _fmt(entry.get("warnings")),
            ]
        )
    results.add(
        "chars_per_op",
        "Characters a model reads per operation (text content only)",
        ["operation", "mailguard", "peer", "mailguard / peer", "body", "overhead", "warnings"],
        rows,
        raw=ops,
        notes=[f"picked UIDs: {json.dumps(data['picks'])}"],
    )
    tl = {k: v["chars"] / v["tools"] for k, v in tools.items() if k.startswith("mailguard")}
    plain = mg.get("fetch plain", {})
    search = mg.get("search page of 20", {}).get("chars")
    peer_search = pe.get("search page of 20", {}).get("chars") if pe else None

    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else ("met" if ok else "NOT met")

    rows = [
        [
            "search page of 20 <= half the peer's",
            f"{_fmt(search)} vs {_fmt(peer_search)}",
            verdict(None if not peer_search else search <= peer_search / 2),
        ],
        *(
            [
                f"tools/list <= 700 chars per tool ({k.split()[1]})",
                f"{v:,.0f}",
                verdict(v <= 700),
            ]
            for k, v in tl.items()
        ),
        [
            "fetch (no warnings) <= body + 400",
            f"{_fmt(plain.get('chars'))} - {_fmt(plain.get('body'))} = "
            f"{_fmt(plain.get('chars', 0) - plain.get('body', 0))}",
            verdict(
                None
                if plain.get("warnings")
                else plain.get("chars", 0) - plain.get("body", 0) <= 400
            ),
        ],
    ]
    results.add("chars_targets", "Targets (issue 14)", ["target", "measured", "verdict"], rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--peer-version", default=peer_mod.PEER_VERSION)
    parser.add_argument("--samples", type=Path, help="write the mailguard texts to this file")
    args = parser.parse_args(argv)
    from tests.support.dovecot import dovecot_available, start_dovecot

    if not dovecot_available():
        print("dovecot is not on PATH: apt-get install dovecot-imapd", file=sys.stderr)
        return 2
    work = WORK_DIR / "chars"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    results = Results(mode="chars", argv=list(argv or sys.argv[1:]))
    results.data["environment"] = environment_info()
    server = start_dovecot(work / "dovecot")
    try:
        server.add_user(USER, PASSWORD)
        seed_folders(server, (SIZE,), seed=0, reseed=False)
        _append_attacks(server)
        data = asyncio.run(
            measure(server, work, skip_peer=args.skip_peer, peer_version=args.peer_version)
        )
    finally:
        server.stop()
    report(data, results)
    if args.samples:
        args.samples.write_text(json.dumps(data.get("samples", {}), indent=2, ensure_ascii=False))
    json_path, md_path = results.write()
    print(f"results: {json_path}\n         {md_path}")
    _ = ACCOUNT
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
