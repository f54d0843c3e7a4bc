"""End to end over the wire: ``mailguard-mcp serve`` as a subprocess, a real Dovecot (IMAP) and
a real aiosmtpd (SMTP), driven by the SDK's stdio client. Every tool runs once for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from mailguard_core.model.tools import Posture, ToolName, posture_allows
from mailguard_core.model.values import MessageRef
from mcp import Client, StdioServerParameters
from tests.mcp.harness import (
    attachment_message,
    attack_message,
    plain_message,
    scan_pdf,
    structured,
)
from tests.mcp.test_server_tools import arguments_for
from tests.support.accounts import NO_CONFIRMATION, account_toml, wire_tables
from tests.support.documents import HIDDEN, VISIBLE
from tests.support.dovecot import DovecotServer, dovecot  # noqa: F401  (fixture)
from tests.support.smtpd import SmtpTestServer, smtpd_certificate, smtpd_for  # noqa: F401

pytestmark = [pytest.mark.anyio, pytest.mark.dovecot]

PASSWORD = "wire-pass-7"


@pytest.fixture
def mailbox(dovecot: DovecotServer) -> str:  # noqa: F811
    """A fresh Dovecot user with the test messages delivered."""
    user, _ = dovecot.add_user(password=PASSWORD)
    dovecot.deliver(user, "INBOX", plain_message("Lunch", "Noodles at 12?"))
    dovecot.deliver(user, "INBOX", attack_message())
    dovecot.deliver(user, "INBOX", attachment_message("../../evil.pdf", scan_pdf()))
    dovecot.deliver(user, "Junk", plain_message("Spam", "Buy now"))
    dovecot.deliver(user, "Scratch", plain_message("Old", "Keep?"))
    return user


smtp = smtpd_for("mailbox", PASSWORD)


def _write_config(tmp_path: Path, server: DovecotServer, user: str, smtp: SmtpTestServer) -> Path:
    blocks = []
    for name, posture in (("wire", "destructive"), ("ro", "readonly")):
        blocks.append(
            account_toml(
                name,
                server,
                user,
                posture=posture,
                smtp=smtp,
                tables=wire_tables() + NO_CONFIRMATION,
            )
        )
    text = 'default_account = "wire"\n[audit]\npath = "' + str(tmp_path / "audit.jsonl") + '"\n'
    path = tmp_path / "mailguard.toml"
    path.write_text(text + "".join(blocks))
    return path


def _environment(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MAILGUARD_WIRE_PASSWORD": PASSWORD,
        "MAILGUARD_RO_PASSWORD": PASSWORD,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }


async def _ref(client: Client, folder: str, subject: str) -> MessageRef:
    page = structured(await client.call_tool("search", {"folder": folder, "subject": subject}))
    [item] = page["items"]
    return MessageRef.parse(item["meta"]["message_ref"])


async def test_every_tool_works_over_stdio_against_dovecot_and_smtp(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    mailbox: str,
    smtp: SmtpTestServer,
) -> None:
    """A destructive account runs all 25 tools for real; a readonly one sees 9 and is refused
    the rest; the attack mail arrives sanitized; mail is sent; the audit log verifies."""
    config = _write_config(tmp_path, dovecot, mailbox, smtp)
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mailguard_mcp", "serve", "--config", str(config)],
        env=_environment(tmp_path),
    )
    failures: dict[str, str] = {}
    with anyio.fail_after(90):
        async with Client(params, mode="legacy") as client:
            listed = {t.name for t in (await client.list_tools()).tools}
            refs = {
                "plain": await _ref(client, "INBOX", "Lunch"),
                "attack": await _ref(client, "INBOX", "limited"),
                "attachment": await _ref(client, "INBOX", "scan"),
                "junk": await _ref(client, "Junk", "Spam"),
            }
            attack = structured(
                await client.call_tool("fetch_message_html", {"message_ref": str(refs["attack"])})
            )
            read = structured(
                await client.call_tool(
                    "read_attachment", {"message_ref": str(refs["attachment"]), "part_id": "2"}
                )
            )
            for tool in ToolName:
                result = await client.call_tool(tool.value, arguments_for(tool, refs, "wire"))
                if result.is_error:
                    failures[tool.value] = result.content[0].text
            sent_copies = structured(await client.call_tool("search", {"folder": "Sent"}))
            await client.call_tool("use_account", {"account": "ro"})
            readonly = {t.name for t in (await client.list_tools()).tools}
            refused = await client.call_tool(
                "mark_read", {"message_refs": [str(refs["attachment"]).replace("wire:", "ro:")]}
            )
    assert failures == {}
    assert listed == {t.value for t in ToolName}
    assert readonly == {t.value for t in ToolName if posture_allows(Posture.READONLY, t)}
    assert structured(refused)["error"]["code"] == "tool_denied"
    codes = {w["code"] for w in attack["security_warnings"]}
    assert {"html_hidden_content_removed", "html_script_removed"} <= codes
    assert "ignore all previous" not in attack["untrusted"]["body_text"]
    # read_attachment over IMAP: the PDF's visible text, its white-on-white text removed
    assert VISIBLE in read["untrusted"]["text"] and "Ignore" not in read["untrusted"]["text"]
    assert read["meta"]["detected_type"] == "application/pdf" and read["meta"]["pages"] == 1
    assert {"code": "document_hidden_content_removed", "severity": "adversarial",
            "location": "attachment", "detail": {"method": "colour_matches_background",
            "count": len(HIDDEN.replace(" ", ""))}} in read["security_warnings"]  # fmt: skip
    [message] = smtp.messages
    assert message.rcpt_tos == ("bob@example.org",)
    assert message.parsed["From"].addresses[0].addr_spec == f"{mailbox}@wire.example"
    assert sent_copies["meta"]["total"] == 1
    verify = subprocess.run(
        [sys.executable, "-m", "mailguard_mcp", "audit", "verify", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=_environment(tmp_path),
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    log = (tmp_path / "audit.jsonl").read_text()
    assert PASSWORD not in log
    records = [json.loads(line) for line in log.splitlines()]
    starts = [r for r in records if r.get("kind") == "call_start"]
    ends = [r for r in records if r.get("kind") == "call_end"]
    assert len(starts) == len(ends) == 4 + 1 + 1 + len(ToolName) + 3


def test_dry_run_prints_capabilities_and_a_pin_line_then_exits_zero(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    mailbox: str,
    smtp: SmtpTestServer,
) -> None:
    """``--dry-run`` prints the matrix, connects, and prints a pin_sha256 line to paste."""
    config = _write_config(tmp_path, dovecot, mailbox, smtp)
    out = subprocess.run(
        [sys.executable, "-m", "mailguard_mcp", "--dry-run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=_environment(tmp_path),
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "IMAP4REV1" in out.stdout.upper()
    assert 'pin_sha256 = "' in out.stdout
    assert "expunge" in out.stdout and "destructive" in out.stdout
    assert PASSWORD not in out.stdout + out.stderr


def test_dry_run_exits_one_when_a_server_is_unreachable(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    mailbox: str,
    smtp: SmtpTestServer,
) -> None:
    """A wrong password makes the dry run report the account as failed and exit 1."""
    config = _write_config(tmp_path, dovecot, mailbox, smtp)
    env = {**_environment(tmp_path), "MAILGUARD_RO_PASSWORD": "wrong"}
    out = subprocess.run(
        [sys.executable, "-m", "mailguard_mcp", "--dry-run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert "FAILED" in out.stdout and "1 check(s) failed" in out.stdout
    assert "wrong" not in out.stdout


async def test_name_and_address_recipients_draft_and_send_over_stdio(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    mailbox: str,
    smtp: SmtpTestServer,
) -> None:
    """``Name <addr>`` (how agents write recipients) works for create_draft and send_email
    (issue 15; before: 'has an invalid format'): the name is cleaned (a bidi override is
    dropped) and encoded, the envelope carries the bare address."""
    config = _write_config(tmp_path, dovecot, mailbox, smtp)
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mailguard_mcp", "serve", "--config", str(config)],
        env=_environment(tmp_path),
    )
    to = ["Bob Example <bob@example.org>", '"Doe, Jane" <jane@example.org>']
    cc = ["Zo\u00eb \u202eevil\u202c M\u00fcller <zoe@example.org>"]
    with anyio.fail_after(60):
        async with Client(params, mode="legacy") as client:
            draft = await client.call_tool(
                "create_draft", {"to": to, "cc": cc, "subject": "Named", "body": "Hi"}
            )
            sent = await client.call_tool(
                "send_email", {"to": to, "cc": cc, "subject": "Named", "body": "Hi"}
            )
            refused = await client.call_tool(
                "send_email",
                {"to": ["Bob <bob@example.org>, eve@evil.example"], "subject": "x", "body": "y"},
            )
    assert not draft.is_error, draft.content
    assert not sent.is_error, sent.content
    assert refused.is_error and "eve@evil.example" not in str(smtp.messages)
    [message] = smtp.messages
    assert set(message.rcpt_tos) == {"bob@example.org", "jane@example.org", "zoe@example.org"}
    parsed = message.parsed
    assert [(a.display_name, a.addr_spec) for a in parsed["To"].addresses] == [
        ("Bob Example", "bob@example.org"),
        ("Doe, Jane", "jane@example.org"),
    ]
    [(name, addr)] = [(a.display_name, a.addr_spec) for a in parsed["Cc"].addresses]
    assert (name, addr) == ("Zo\u00eb evil M\u00fcller", "zoe@example.org")
    raw_drafts = list((dovecot.folder_dir(mailbox, "Drafts") / "new").iterdir()) + list(
        (dovecot.folder_dir(mailbox, "Drafts") / "cur").iterdir()
    )
    [draft_file] = raw_drafts
    import email
    import email.policy

    stored = email.message_from_bytes(draft_file.read_bytes(), policy=email.policy.default)
    assert [a.display_name for a in stored["To"].addresses] == ["Bob Example", "Doe, Jane"]
    assert "\u202e" not in str(stored["Cc"])


async def test_debug_logs_carry_no_message_bodies(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    mailbox: str,
    smtp: SmtpTestServer,
) -> None:
    """Issue 15: ``--log-level DEBUG`` wrote whole raw messages to stderr (imapclient's and
    the SDK's DEBUG records); mailguard's own DEBUG records stay."""
    marker = "BODYMARKER-7f3e9a"
    dovecot.deliver(mailbox, "INBOX", plain_message("Secret memo", f"The code is {marker}."))
    config = _write_config(tmp_path, dovecot, mailbox, smtp)
    stderr_path = tmp_path / "stderr.log"
    from tests.mcp.wire import raw_session

    args = ["serve", "--config", str(config), "--log-level", "DEBUG"]
    with anyio.fail_after(60):
        async with raw_session(args, env=_environment(tmp_path), stderr=stderr_path) as session:
            await session.initialize()
            found = await session.request(
                "tools/call", {"name": "search", "arguments": {"subject": "Secret memo"}}
            )
            ref = found["structuredContent"]["items"][0]["meta"]["message_ref"]
            fetched = await session.request(
                "tools/call", {"name": "fetch_message", "arguments": {"message_ref": ref}}
            )
    assert marker in json.dumps(fetched["structuredContent"])
    logged = stderr_path.read_text()
    assert "DEBUG" in logged  # the level took effect for mailguard's own records
    assert marker not in logged
