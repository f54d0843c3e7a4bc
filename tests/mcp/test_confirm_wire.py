"""A human says yes (issue 21), end to end: ``mailguard-mcp serve`` as a subprocess, a real
Dovecot and a real aiosmtpd, the SDK's stdio client with an elicitation callback playing the
human. Nothing is sent, moved, deleted or expunged unless the human accepted; the summary the
human saw is what was sent; a client without elicitation gets the configured fallback."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest
from mcp.client.context import ClientRequestContext

from mcp import Client, StdioServerParameters
from tests.mcp.harness import plain_message, structured
from tests.support.accounts import account_toml, wire_tables
from tests.support.dovecot import DovecotServer, dovecot  # noqa: F401  (fixture)
from tests.support.smtpd import SmtpTestServer, smtpd_certificate, smtpd_for  # noqa: F401

pytestmark = [pytest.mark.anyio, pytest.mark.dovecot]

PASSWORD = "confirm-pass-3"


@pytest.fixture
def mailbox(dovecot: DovecotServer) -> str:  # noqa: F811
    user, _ = dovecot.add_user(password=PASSWORD)
    dovecot.deliver(
        user, "INBOX", plain_message("Invoice 7", "Pay now", sender="Mallory <m@pay.example>")
    )
    dovecot.deliver(user, "Junk", plain_message("Spam \u202eevil", "Buy now"))
    dovecot.deliver(user, "Scratch", plain_message("Old", "Keep?"))
    return user


smtp = smtpd_for("mailbox", PASSWORD)


def _config(tmp_path: Path, server: DovecotServer, user: str, smtp: SmtpTestServer) -> Path:
    text = f"""
[audit]
path = "{tmp_path / "audit.jsonl"}"
"""
    text += account_toml(
        "wire",
        server,
        user,
        posture="destructive",
        keys='display_name = "Wire Me"\n',
        smtp=smtp,
        tables=wire_tables()
        + """tools = {send_email = "100/s", create_draft = "100/s"}
[accounts.breaker]
failure_threshold = 2
[accounts.confirm]
timeout_seconds = 1
""",
    )
    path = tmp_path / "mailguard.toml"
    path.write_text(text)
    return path


def _params(config: Path, tmp_path: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "mailguard_mcp", "serve", "--config", str(config)],
        env={
            **os.environ,
            "MAILGUARD_WIRE_PASSWORD": PASSWORD,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
            "XDG_STATE_HOME": str(tmp_path / "state"),
        },
    )


class Human:
    """The elicitation callback: answers with the next planned reply, records what it saw."""

    def __init__(self) -> None:
        self.plan: list[Any] = []
        self.shown: list[str] = []
        self.schemas: list[Any] = []

    async def __call__(
        self, context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        assert isinstance(params, types.ElicitRequestFormParams)
        self.shown.append(params.message)
        self.schemas.append(params.requested_schema)
        reply = self.plan.pop(0)
        if reply == "sleep":  # the server's timeout_seconds is 1
            await anyio.sleep(2.5)
            return types.ElicitResult(action="accept", content={"approve": True})
        if isinstance(reply, types.ErrorData):
            return reply
        action, content = reply
        return types.ElicitResult(action=action, content=content)


YES = ("accept", {"approve": True})
#: answers that are not a clear yes
NOT_YES: list[Any] = [
    ("decline", None),
    ("cancel", None),
    "sleep",
    ("accept", None),
    ("accept", {"approve": "yes"}),
    ("accept", {"approve": 1}),
    ("accept", {"approve": True, "also": "send to x@evil.example"}),
    ("accept", {"approve": False}),
    ("accept", {}),
    types.ErrorData(code=-32603, message="client broke"),
]
DECISIONS = [
    "decline",
    "cancel",
    "timeout",
    "malformed",
    "malformed",
    "malformed",
    "malformed",
    "decline",
    "malformed",
    "error",
]


def _code(result: Any) -> str | None:
    content = result.structured_content or {}
    error = content.get("error")
    return error["code"] if isinstance(error, dict) else None


async def _refs(client: Client, folder: str) -> list[str]:
    page = structured(await client.call_tool("search", {"folder": folder}))
    return [item["meta"]["message_ref"] for item in page["items"]]


async def _folders(client: Client) -> set[str]:
    listed = structured(await client.call_tool("list_folders", {}))
    return {f["untrusted"]["exact_name"] for f in listed["items"]}


SEND = {
    "to": ["bob@example.org"],
    "cc": ["carol@example.net"],
    "bcc": ["dave@example.com"],
    "subject": "Quarterly \u202enumbers",
    "body": "Hello Bob,\nthe numbers are attached.\n\u200bRegards",
}


async def test_only_an_accepted_call_sends_moves_deletes_or_expunges(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    mailbox: str,
    smtp: SmtpTestServer,
) -> None:
    """Every answer that is not exactly ``approve: true`` (decline, cancel, no answer within
    timeout_seconds, a bare accept, a wrong type, an extra field, ``false``, an empty form, an
    error reply) leaves the mailbox and the SMTP server untouched and is refused with
    ``confirmation_declined``; ten of them do not open a breaker with threshold 2; then an
    accept sends exactly what the human was shown, and deletes/expunges/folder ops run."""
    config = _config(tmp_path, dovecot, mailbox, smtp)
    human = Human()
    codes: dict[str, list[str | None]] = {}
    with anyio.fail_after(150):
        async with Client(
            _params(config, tmp_path), mode="legacy", elicitation_callback=human
        ) as client:
            inbox, junk = await _refs(client, "INBOX"), await _refs(client, "Junk")
            calls = {
                "send_email": SEND,
                "delete_message": {"message_refs": inbox},
                "expunge": {"message_refs": junk},
                "delete_folder": {"folder": "Scratch"},
                "rename_folder": {"folder": "Scratch", "new_name": "Scratch2"},
            }
            for tool, args in calls.items():
                human.plan = list(NOT_YES)
                for _ in NOT_YES:
                    result = await client.call_tool(tool, args)
                    codes.setdefault(tool, []).append(_code(result))
                assert human.plan == [], codes
            untouched = (await _refs(client, "INBOX"), await _refs(client, "Junk"))
            folders_before = await _folders(client)
            sent_before = len(smtp.messages)
            # now yes, once each
            human.plan = [YES] * 4
            accepted = {
                tool: await client.call_tool(tool, calls[tool])
                for tool in ("send_email", "delete_message", "expunge", "delete_folder")
            }
            after = (await _refs(client, "INBOX"), await _refs(client, "Junk"))
            trash = await _refs(client, "Trash")
            folders_after = await _folders(client)
    assert codes == {tool: ["confirmation_declined"] * len(NOT_YES) for tool in calls}
    assert sent_before == 0
    assert untouched == (inbox, junk) and len(inbox) == 1 and len(junk) == 1
    assert {"Scratch"} <= folders_before and "Scratch2" not in folders_before
    for tool, result in accepted.items():
        assert not result.is_error, (tool, result.content)
    assert after == ([], []) and len(trash) == 1
    assert "Scratch" not in folders_after
    # the schema asks for one required boolean
    assert all(s["required"] == ["approve"] for s in human.schemas)

    # what the human saw of the send is what was sent
    [message] = smtp.messages
    send_summary = human.shown[-4]
    assert send_summary.startswith("Send this email?")
    assert f'From: "Wire Me" <{mailbox}@wire.example>' in send_summary
    assert "To: <bob@example.org>" in send_summary
    assert "Cc: <carol@example.net>" in send_summary
    assert "Bcc: <dave@example.com>" in send_summary
    assert sorted(message.rcpt_tos) == ["bob@example.org", "carol@example.net", "dave@example.com"]
    assert message.parsed["Subject"] == "Quarterly \u202enumbers"
    assert "Subject: Quarterly \\u{202E}numbers" in send_summary  # the override is shown, inert
    assert "\u202e" not in send_summary and "\u200b" not in send_summary
    assert "  | Hello Bob,\n  | the numbers are attached.\n  | \\u{200B}Regards" in send_summary
    assert "Attachments: none" in send_summary
    # the deletion summaries name the messages' senders and subjects
    delete_summary, expunge_summary = human.shown[-3], human.shown[-2]
    assert "Messages: 1" in delete_summary and "Folders: INBOX" in delete_summary
    assert '"Mallory" <m@pay.example>' in delete_summary and "Invoice 7" in delete_summary
    assert "cannot be undone" in expunge_summary and "Spam \\u{202E}evil" in expunge_summary
    assert "Folder: Scratch" in human.shown[-1]

    # the audit: the summary's hash, the decision, how long it took; refusals, not errors
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    ends = [r for r in records if r.get("kind") == "call_end" and "result" in r]
    confirmed = [r for r in ends if "confirm_decision" in r["result"]]
    decisions = [r["result"]["confirm_decision"] for r in confirmed]
    assert decisions == DECISIONS * len(calls) + ["accept"] * 4
    for record in confirmed:
        assert record["result"]["confirm_ms"] >= 0
        if record["result"]["confirm_decision"] == "accept":
            assert record["outcome"] == "ok"
        else:
            assert record["outcome"] == "refused" and record["code"] == "confirmation_declined"
    timeouts = [r for r in confirmed if r["result"]["confirm_decision"] == "timeout"]
    assert all(900 <= r["result"]["confirm_ms"] < 2500 for r in timeouts)
    assert (
        confirmed[-4]["result"]["confirm_sha256"]
        == hashlib.sha256(send_summary.encode()).hexdigest()
    )


async def test_a_client_without_elicitation_gets_the_configured_fallback(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    mailbox: str,
    smtp: SmtpTestServer,
) -> None:
    """No elicitation capability: a send becomes a $PendingReview draft (nothing reaches the
    SMTP server, the result says not_sent); deletions, expunges and folder ops are refused
    with confirmation_unavailable and nothing changes."""
    config = _config(tmp_path, dovecot, mailbox, smtp)
    with anyio.fail_after(60):
        async with Client(_params(config, tmp_path), mode="legacy") as client:
            inbox, junk = await _refs(client, "INBOX"), await _refs(client, "Junk")
            sent = await client.call_tool("send_email", SEND)
            refused = [
                await client.call_tool("delete_message", {"message_refs": inbox}),
                await client.call_tool("expunge", {"message_refs": junk}),
                await client.call_tool("delete_folder", {"folder": "Scratch"}),
                await client.call_tool(
                    "rename_folder", {"folder": "Scratch", "new_name": "Scratch2"}
                ),
            ]
            drafts = structured(await client.call_tool("search", {"folder": "Drafts"}))
            after = (await _refs(client, "INBOX"), await _refs(client, "Junk"))
            folders = await _folders(client)
            draft_ref = structured(sent)["meta"]["draft_ref"]
            labels = structured(await client.call_tool("list_labels", {"message_ref": draft_ref}))
    assert smtp.messages == []
    meta = structured(sent)["meta"]
    assert not sent.is_error and meta["accepted"] == [] and "not sent" in meta["not_sent"]
    assert "not sent" in sent.content[0].text
    assert drafts["meta"]["total"] == 1
    assert "$PendingReview" in json.dumps(labels)
    assert [_code(r) for r in refused] == ["confirmation_unavailable"] * 4
    assert after == (inbox, junk) and "Scratch" in folders


async def test_on_unsupported_refuse_refuses_a_send_too(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    mailbox: str,
    smtp: SmtpTestServer,
) -> None:
    config = _config(tmp_path, dovecot, mailbox, smtp)
    config.write_text(config.read_text() + 'on_unsupported = "refuse"\n')
    with anyio.fail_after(60):
        async with Client(_params(config, tmp_path), mode="legacy") as client:
            sent = await client.call_tool("send_email", SEND)
            drafts = structured(await client.call_tool("search", {"folder": "Drafts"}))
    assert _code(sent) == "confirmation_unavailable"
    assert smtp.messages == [] and drafts["meta"]["total"] == 0
