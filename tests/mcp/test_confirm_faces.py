"""Confirmation where nobody can be asked, and on the library face (issue 21): never a silent
proceed. In process, over in-memory adapters."""

from __future__ import annotations

from pathlib import Path

import anyio
import mcp.types as types
import pytest
from mcp.client.context import ClientRequestContext

from mailguard_core.config import ConfirmSettings
from mailguard_core.model.errors import ConfirmationDeclined, ConfirmationUnavailable
from mailguard_core.model.tools import Posture
from mailguard_core.services.confirm import ConfirmationSummary
from mcp import Client
from tests.mcp.harness import Harness, account, limits, make_harness, structured

SEND = {"to": ["bob@example.org"], "subject": "hi", "body": "b"}


def _harness(tmp_path: Path, on_unsupported: str = "draft") -> Harness:
    h = make_harness(
        tmp_path,
        account(
            posture=Posture.DESTRUCTIVE,
            confirm=ConfirmSettings(on_unsupported=on_unsupported),  # type: ignore[arg-type]
            limits=limits(1000.0, 1000, send_email="1000/s"),
        ),
    )
    h.seed()
    return h


@pytest.mark.anyio
async def test_a_declared_elicitation_without_a_back_channel_falls_back(tmp_path: Path) -> None:
    """The in-process client on the current protocol declares elicitation but its transport
    carries no server-initiated request: the send becomes a draft, a deletion is refused."""
    h = _harness(tmp_path)
    asked: list[str] = []

    async def human(
        context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"approve": True})

    with anyio.fail_after(30):
        async with Client(h.server(), elicitation_callback=human) as client:
            sent = await client.call_tool("send_email", SEND)
            deleted = await client.call_tool(
                "delete_message", {"message_refs": [str(h.refs["plain"])]}
            )
    assert h.senders["work"].sent == []
    assert "not sent" in structured(sent)["meta"]["not_sent"]
    assert structured(deleted)["error"]["code"] == "confirmation_unavailable"
    decisions = [r["result"].get("confirm_decision") for r in h.audit.of_kind("call_end")]
    assert decisions == ["unsupported_draft", "unsupported_refused"]


def test_the_library_face_never_proceeds_silently(tmp_path: Path) -> None:
    """MailguardApp.call: no confirmer -> on_unsupported; a confirmer's False or exception
    -> confirmation_declined; True -> sent, and the confirmer saw the summary."""
    h = _harness(tmp_path)
    seen: list[ConfirmationSummary] = []
    with h.open() as app:
        drafted = app.call("send_email", SEND)
        with pytest.raises(ConfirmationUnavailable):
            app.call("delete_message", {"message_refs": [str(h.refs["plain"])]})
        app.confirmer = lambda s: seen.append(s) or False  # type: ignore[func-returns-value]
        with pytest.raises(ConfirmationDeclined):
            app.call("send_email", SEND)

        def broken(summary: ConfirmationSummary) -> bool:
            raise RuntimeError("confirmer broke")

        app.confirmer = broken
        with pytest.raises(ConfirmationDeclined):
            app.call("send_email", SEND)
        app.confirmer = lambda s: seen.append(s) is None
        sent = app.call("send_email", SEND)
    assert drafted["meta"]["accepted"] == [] and "not_sent" in drafted["meta"]
    assert len(h.senders["work"].sent) == 1 and sent["meta"]["accepted"] == ["bob@example.org"]
    assert [s.tool for s in seen] == ["send_email", "send_email"]
    assert "To: <bob@example.org>" in seen[-1].text
    ends = [r["result"].get("confirm_decision") for r in h.audit.of_kind("call_end")]
    assert ends == ["unsupported_draft", "unsupported_refused", "decline", "error", "accept"]


def test_on_unsupported_refuse_refuses_a_library_send(tmp_path: Path) -> None:
    h = _harness(tmp_path, "refuse")
    with h.open() as app, pytest.raises(ConfirmationUnavailable):
        app.call("send_email", SEND)
    assert h.senders["work"].sent == []
