"""The demo shows the human confirmation (issue 21): a send from the demo account, and moving a
demo message, ask the human first, over the real ``mcp`` client with an elicitation callback
(what an MCP host shows as a form). The demo's sends go to a local outbox folder
(``OutboxSender``), never the network; a client without elicitation gets a ``$PendingReview``
draft instead of a send."""

from __future__ import annotations

import email.parser
import email.policy
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest
from mcp.client.context import ClientRequestContext

from mailguard_core.adapters.outbox_sender import OutboxSender
from mailguard_mcp import serve_cli
from mailguard_mcp.server import build_server
from mcp import Client
from tests.mcp.harness import structured

pytestmark = pytest.mark.anyio

SEND = {
    "to": ["Ann Colleague <ann@colleagues.example>"],
    "cc": ["p\u0430ypal.example <billing@p\u0430ypal.example>"],
    "subject": "Lunch \u202eon Friday",
    "body": "See you at noon.\nBring the slides.",
}


async def _inbox(client: Client) -> list[Any]:
    page = structured(await client.call_tool("search", {"folder": "INBOX", "subject": "Lunch"}))
    return [item["meta"]["message_ref"] for item in page["items"]]


class Human:
    def __init__(self, *answers: tuple[str, dict[str, Any] | None]) -> None:
        self.answers = list(answers)
        self.shown: list[str] = []

    async def __call__(
        self, context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        self.shown.append(params.message)
        action, content = self.answers.pop(0)
        return types.ElicitResult(action=action, content=content)  # type: ignore[arg-type]


async def test_a_demo_send_asks_the_human_and_lands_in_the_local_outbox(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    server = build_server(lambda: serve_cli.demo_app(root))
    outbox = OutboxSender(root / "outbox")
    human = Human(("decline", None), ("accept", {"approve": True}))
    with anyio.fail_after(60):
        async with Client(server, mode="legacy", elicitation_callback=human) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            declined = await client.call_tool("send_email", SEND)
            after_decline = outbox.delivered()
            sent = await client.call_tool("send_email", SEND)
            sent_folder = structured(await client.call_tool("search", {"folder": "Sent"}))
        async with Client(server, mode="legacy") as plain:  # no elicitation capability
            drafted = await plain.call_tool("send_email", SEND)
            drafts = structured(await plain.call_tool("search", {"folder": "Drafts"}))
    assert "send_email" in tools and "delete_message" not in tools
    assert structured(declined)["error"]["code"] == "confirmation_declined"
    assert after_decline == []
    assert not sent.is_error, structured(sent)
    [delivered] = outbox.delivered()  # the fallback draft was not sent
    assert sorted(delivered.recipients) == [
        "ann@colleagues.example",
        "billing@xn--pypal-4ve.example",
    ]
    # what the human approved is what the outbox got
    summary = human.shown[1]
    assert human.shown[0] == summary and summary.startswith("Send this email?")
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(delivered.data)
    assert 'To: "Ann Colleague" <ann@colleagues.example>' in summary
    assert message["To"] == "Ann Colleague <ann@colleagues.example>"
    # a display name mixing scripts is escaped like an address
    assert '"p\\u{0430}ypal.example" <billing@xn--pypal-4ve.example>' in summary
    assert "\u0430" not in summary
    assert "Subject: Lunch \\u{202E}on Friday" in summary
    assert str(message["Subject"]) == "Lunch \u202eon Friday"
    assert "  | See you at noon.\n  | Bring the slides." in summary
    assert structured(sent)["meta"]["sent_copy_stored"] is True
    copy = structured(sent)["meta"]["sent_copy_ref"]
    assert copy in [i["meta"]["message_ref"] for i in sent_folder["items"]]
    assert "not sent" in structured(drafted)["meta"]["not_sent"]
    assert any(i["meta"]["message_ref"] == structured(drafted)["meta"]["draft_ref"]
               for i in drafts["items"])  # fmt: skip


async def test_moving_a_demo_message_asks_the_human_first(tmp_path: Path) -> None:
    server = build_server(lambda: serve_cli.demo_app(tmp_path / "demo"))
    human = Human(("decline", None), ("accept", {"approve": True}))
    with anyio.fail_after(60):
        async with Client(server, mode="legacy", elicitation_callback=human) as client:
            ref = (await _inbox(client))[0]
            args = {"message_refs": [ref], "destination": "Archive"}
            declined = await client.call_tool("move_message", args)
            still = await _inbox(client)
            moved = await client.call_tool("move_message", args)
            after = await _inbox(client)
        async with Client(server, mode="legacy") as plain:
            page = structured(await plain.call_tool("search", {"folder": "INBOX", "limit": 1}))
            other = page["items"][0]["meta"]["message_ref"]
            unavailable = await plain.call_tool(
                "move_message", {"message_refs": [other], "destination": "Archive"}
            )
    shown = human.shown
    assert structured(declined)["error"]["code"] == "confirmation_declined"
    assert ref in still and ref not in after and not moved.is_error
    assert shown[0] == shown[1] and shown[0].startswith("Move these messages?")
    assert "Destination: Archive" in shown[0] and "Lunch" in shown[0]
    assert structured(unavailable)["error"]["code"] == "confirmation_unavailable"
