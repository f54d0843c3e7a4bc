"""The demo shows the human confirmation (issue 21): moving a demo message asks the human
first, over the real ``mcp`` client with an elicitation callback (what the MCP Inspector shows
as a form). The demo cannot send (draft-safe, no SMTP): ``send_email`` stays ``tool_denied``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest
from mcp.client.context import ClientRequestContext

from mailguard_mcp import serve_cli
from mailguard_mcp.server import build_server
from mcp import Client
from tests.mcp.harness import structured

pytestmark = pytest.mark.anyio


async def _inbox(client: Client) -> list[Any]:
    page = structured(await client.call_tool("search", {"folder": "INBOX", "subject": "Lunch"}))
    return [item["meta"]["message_ref"] for item in page["items"]]


async def test_moving_a_demo_message_asks_the_human_first(tmp_path: Path) -> None:
    server = build_server(lambda: serve_cli.demo_app(tmp_path / "demo"))
    answers = [("decline", None), ("accept", {"approve": True})]
    shown: list[str] = []

    async def human(
        context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        shown.append(params.message)
        action, content = answers.pop(0)
        return types.ElicitResult(action=action, content=content)

    with anyio.fail_after(60):
        async with Client(server, mode="legacy", elicitation_callback=human) as client:
            ref = (await _inbox(client))[0]
            args = {"message_refs": [ref], "destination": "Archive"}
            declined = await client.call_tool("move_message", args)
            still = await _inbox(client)
            moved = await client.call_tool("move_message", args)
            after = await _inbox(client)
            send = await client.call_tool(
                "send_email", {"to": ["a@b.example"], "subject": "s", "body": "b"}
            )
        async with Client(server, mode="legacy") as plain:
            page = structured(await plain.call_tool("search", {"folder": "INBOX", "limit": 1}))
            other = page["items"][0]["meta"]["message_ref"]
            unavailable = await plain.call_tool(
                "move_message", {"message_refs": [other], "destination": "Archive"}
            )
    assert structured(declined)["error"]["code"] == "confirmation_declined"
    assert ref in still and ref not in after and not moved.is_error
    assert shown[0] == shown[1] and shown[0].startswith("Move these messages?")
    assert "Destination: Archive" in shown[0] and "Lunch" in shown[0]
    assert structured(send)["error"]["code"] == "tool_denied"
    assert structured(unavailable)["error"]["code"] == "confirmation_unavailable"
