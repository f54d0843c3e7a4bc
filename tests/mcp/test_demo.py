"""The bundled demo mailbox: every warning code on show, package data never modified."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from mailguard_core.sanitize.warnings import SEVERITY
from mailguard_mcp import serve_cli
from mailguard_mcp.server import build_server
from mcp import Client
from tests.mcp.harness import structured

pytestmark = pytest.mark.anyio


def _package_digest() -> str:
    root = resources.files("mailguard_mcp.demo") / "mail"
    digest = hashlib.sha256()
    for path in sorted(Path(str(root)).rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


async def _all_refs(client: Client, folder: str = "INBOX") -> list[str]:
    refs: list[str] = []
    arguments: dict[str, Any] = {"folder": folder, "limit": 100}
    for _ in range(5):
        page = structured(await client.call_tool("search", arguments))
        refs.extend(item["meta"]["message_ref"] for item in page["items"])
        if page["meta"]["next_cursor"] is None:
            break
        arguments["cursor"] = page["meta"]["next_cursor"]
    return refs


async def test_the_demo_mailbox_shows_every_warning_code(tmp_path: Path) -> None:
    """Reading every demo message (saving and reading its attachments) raises every warning
    code; reading an attachment fails only for types without text extraction."""
    server = build_server(lambda: serve_cli.demo_app(tmp_path / "demo"))
    codes: set[str] = set()
    async with Client(server) as client:
        refs = await _all_refs(client)
        assert len(refs) >= 20
        for ref in refs:
            envelope = structured(await client.call_tool("fetch_message", {"message_ref": ref}))
            codes.update(w["code"] for w in envelope["security_warnings"])
            listing = structured(await client.call_tool("list_attachments", {"message_ref": ref}))
            for attachment in listing["untrusted"]["attachments"]:
                saved = await client.call_tool(
                    "download_attachment",
                    {"message_ref": ref, "part_id": attachment["part_id"]},
                )
                assert not saved.is_error, saved.content[0].text
                codes.update(w["code"] for w in structured(saved)["security_warnings"])
                read = await client.call_tool(
                    "read_attachment", {"message_ref": ref, "part_id": attachment["part_id"]}
                )
                if read.is_error:
                    assert structured(read)["error"]["code"] == "unsupported_attachment", ref
                else:
                    codes.update(w["code"] for w in structured(read)["security_warnings"])
    assert codes == set(SEVERITY)


async def test_demo_drafts_go_to_a_copy_and_the_package_data_stays_untouched(
    tmp_path: Path,
) -> None:
    """create_draft writes into the session's Maildir copy, never into the package."""
    before = _package_digest()
    root = tmp_path / "demo"
    server = build_server(lambda: serve_cli.demo_app(root))
    async with Client(server) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        draft = await client.call_tool(
            "create_draft", {"to": ["ann@colleagues.example"], "subject": "Hi", "body": "Hello"}
        )
        drafts = await _all_refs(client, "Drafts")
    # send_email too (to a local outbox, after the human confirmed: test_confirm_demo.py)
    assert "create_draft" in tools and "send_email" in tools and "delete_message" not in tools
    assert not draft.is_error, draft.content[0].text
    assert len(drafts) == 1
    stored = [p for p in (root / "Maildir" / ".Drafts").rglob("*") if p.parent.name == "cur"]
    assert len(stored) == 1
    assert _package_digest() == before


def test_demo_dry_run_prints_the_matrix_and_succeeds(capsys: pytest.CaptureFixture[str]) -> None:
    """``mailguard-mcp demo --dry-run`` prints the demo account's tools and exits 0."""
    code = serve_cli.main(["demo", "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0
    assert "draft-safe" in out
    assert "create_draft" in out and "OK: every account connected" in out


def test_the_shipped_demo_files_are_what_the_generator_writes(tmp_path: Path) -> None:
    """``python -m mailguard_mcp.demo.build`` reproduces the committed .eml files exactly."""
    from mailguard_mcp.demo import build

    count = build.write(tmp_path / "mail")
    shipped = Path(str(resources.files("mailguard_mcp.demo") / "mail"))
    generated = {
        p.relative_to(tmp_path / "mail"): p.read_bytes()
        for p in (tmp_path / "mail").rglob("*")
        if p.is_file()
    }
    committed = {p.relative_to(shipped): p.read_bytes() for p in shipped.rglob("*") if p.is_file()}
    assert count >= 25
    assert generated == committed


async def test_demo_documents_hide_instructions_that_read_attachment_removes(
    tmp_path: Path,
) -> None:
    """The demo's corrected invoice (PDF) and final agreement (DOCX) hide instructions four
    and three ways; read_attachment returns their visible text only and names each method."""
    server = build_server(lambda: serve_cli.demo_app(tmp_path / "demo"))
    found: dict[str, dict[str, Any]] = {}
    async with Client(server) as client:
        for subject in ("Corrected invoice", "Agreement, final"):
            page = structured(await client.call_tool("search", {"subject": subject}))
            [item] = page["items"]
            ref = item["meta"]["message_ref"]
            result = await client.call_tool("read_attachment", {"message_ref": ref, "part_id": "2"})
            assert not result.is_error, result.content[0].text
            found[subject] = structured(result)
    invoice, agreement = found["Corrected invoice"], found["Agreement, final"]
    assert "Total due EUR 218.70" in invoice["untrusted"]["text"]
    assert "DE02 1203" in invoice["untrusted"]["text"]
    assert (
        "GB33" not in invoice["untrusted"]["text"]
        and "collector" not in invoice["untrusted"]["text"]
    )
    assert {w["detail"]["method"] for w in invoice["security_warnings"]
            if w["code"] == "document_hidden_content_removed"} == {
        "colour_matches_background", "tiny_text", "invisible_render_mode", "off_page"}  # fmt: skip
    assert "three months' notice" in agreement["untrusted"]["text"]
    assert "collector" not in agreement["untrusted"]["text"]
    assert {w["detail"]["method"] for w in agreement["security_warnings"]
            if w["code"] == "document_hidden_content_removed"} == {
        "vanish", "colour_matches_background", "tiny_text"}  # fmt: skip
    for envelope in (invoice, agreement):
        assert any(
            w["code"] == "injection_suspected" and w["location"] == "attachment:hidden"
            for w in envelope["security_warnings"]
        )
