"""The text a model reads, through the real MCP client over the demo mailbox: warnings
first, every warning of structuredContent in the text, deceptive links told the truth."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from mailguard_mcp import serve_cli
from mailguard_mcp.render import PREAMBLE
from mailguard_mcp.server import build_server
from mcp import Client
from tests.mcp.harness import structured

pytestmark = pytest.mark.anyio

_FENCE_RE = re.compile(r"^<<untrusted nonce=([0-9a-f]{16})>>$", re.M)


def _text(result: Any) -> str:
    [content] = result.content
    return str(content.text)


def _before_fence(text: str) -> str:
    match = _FENCE_RE.search(text)
    return text if match is None else text[: match.start()]


def _codes_listed(before: str) -> dict[str, str]:
    """code -> its warning line, from the lines before the fence."""
    return {m.group(2): m.group(0) for m in re.finditer(r"^- (\w+) (\w+)\b.*$", before, re.M)}


async def test_every_demo_message_lists_each_warning_before_its_text(tmp_path: Path) -> None:
    """For each demo message (fetch_message and list_attachments) and the search page: every
    warning code of structuredContent has a line with its severity before the fence, and the
    structuredContent is the full envelope (schema name, every key)."""
    server = build_server(lambda: serve_cli.demo_app(tmp_path / "demo"))
    async with Client(server) as client:
        page = await client.call_tool("search", {"folder": "INBOX", "limit": 100})
        results = [page]
        for item in structured(page)["items"]:
            ref = item["meta"]["message_ref"]
            results.append(await client.call_tool("fetch_message", {"message_ref": ref}))
            results.append(await client.call_tool("list_attachments", {"message_ref": ref}))
    assert len(results) > 40
    seen_codes: set[str] = set()
    for result in results:
        envelope = structured(result)
        text = _text(result)
        warnings = list(envelope["security_warnings"])
        for item in envelope.get("items", []):
            assert item["meta"]["schema"] == "mailguard.envelope/1"
            warnings.extend(item["security_warnings"])
        if "untrusted" in envelope and "body_text" in envelope["untrusted"]:
            assert envelope["meta"]["schema"] == "mailguard.envelope/1"
            assert "provenance" in envelope["meta"]
        listed = _codes_listed(_before_fence(text))
        for warning in warnings:
            line = listed[warning["code"]]
            assert line.startswith(f"- {warning['severity']} ") or any(
                w["severity"] == "adversarial" for w in warnings if w["code"] == warning["code"]
            )
            seen_codes.add(warning["code"])
        assert len(listed) == len({w["code"] for w in warnings})
        if _FENCE_RE.search(text):
            assert text.count(PREAMBLE) == 1 and len(_FENCE_RE.findall(text)) == 1
    assert len(seen_codes) >= 15


async def test_the_deceptive_link_reads_with_its_real_domain(tmp_path: Path) -> None:
    """Demo message "Security alert from your bank": the shown URL is followed by the domain
    the link really goes to, inside the fence; the warning line says both."""
    server = build_server(lambda: serve_cli.demo_app(tmp_path / "demo"))
    async with Client(server) as client:
        page = structured(
            await client.call_tool("search", {"subject": "Security alert from your bank"})
        )
        [hit] = page["items"]
        result = await client.call_tool(
            "fetch_message", {"message_ref": hit["meta"]["message_ref"]}
        )
    text = _text(result)
    [warning] = [
        w for w in structured(result)["security_warnings"] if w["code"] == "html_link_text_mismatch"
    ]
    assert warning["detail"]["links"] == [
        {"shown": "www.mybank.com", "real_domain": "mybank-login-check.net"}
    ]
    before, inside = text.split(PREAMBLE)
    assert "shown=www.mybank.com real_domain=mybank-login-check.net" in before
    assert "https://www.mybank.com/login <<link goes to mybank-login-check.net>>" in inside
    assert "message-id: <demo-205@demo.example>" in inside


async def test_a_draft_result_has_no_fence_and_no_preamble(tmp_path: Path) -> None:
    server = build_server(lambda: serve_cli.demo_app(tmp_path / "demo"))
    async with Client(server) as client:
        draft = await client.call_tool(
            "create_draft", {"to": ["ann@colleagues.example"], "subject": "Hi", "body": "Hello"}
        )
    text = _text(draft)
    assert not draft.is_error, text
    assert "<<" not in text and PREAMBLE not in text and "null" not in text
    assert "message_id: <" in text


async def test_a_search_hit_marks_attachments_by_the_has_attachment_rule(tmp_path: Path) -> None:
    """A hit whose top-level type is multipart/mixed (the has_attachment search rule) carries
    meta.has_attachment and the "attachments" marker in its line; others carry neither."""
    server = build_server(lambda: serve_cli.demo_app(tmp_path / "demo"))
    async with Client(server) as client:
        page = await client.call_tool("search", {"folder": "INBOX", "limit": 100})
        mixed = await client.call_tool("search", {"has_attachment": True, "limit": 100})
    hits = structured(page)["items"]
    want = {item["meta"]["message_ref"] for item in structured(mixed)["items"]}
    assert want and len(want) < len(hits)
    lines = _text(page).split("\n")
    for item in hits:
        ref = item["meta"]["message_ref"]
        assert item["meta"]["has_attachment"] is (ref in want)
        [line] = [x for x in lines if re.match(rf"\d+\. {re.escape(ref)} ", x)]
        assert ("attachments" in line.split(" | ")[0]) is (ref in want)
