"""Confirmation where nobody can be asked, and on the library face (issue 21): never a silent
proceed. In process, over in-memory adapters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest
from mcp.client.context import ClientRequestContext

from mailguard_core.config import ConfirmSettings
from mailguard_core.model.errors import ConfirmationDeclined, ConfirmationUnavailable
from mailguard_core.model.tools import Posture
from mailguard_core.services.confirm import ConfirmationSummary, display_name
from mcp import Client
from tests.mcp.harness import Harness, account, breaker, limits, make_harness, structured

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


def _declining(asked: list[str]) -> Any:
    async def human(
        context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="decline")

    return human


@pytest.mark.anyio
async def test_a_decline_spends_its_rate_limit_token_and_never_trips_the_breaker(
    tmp_path: Path,
) -> None:
    """docs/security-model.md, "Declines and the limits": the token is taken when the gate
    admits the call, before the human is asked, and a decline keeps it spent, so an agent
    (or an injected message) retrying a refused send can interrupt the human at most as often
    as the tool's rate allows; the decline is the human's answer, not the mail server's
    failure, so a breaker that opens at the first failure stays closed."""
    h = make_harness(
        tmp_path,
        account(
            posture=Posture.FULL,
            confirm=ConfirmSettings(tools=("send_email",)),
            limits=limits(1000.0, 1000, send_email="2/h"),
            breaker=breaker(1),
        ),
    )
    h.seed()
    asked: list[str] = []
    with anyio.fail_after(30):
        async with Client(h.server(), mode="legacy", elicitation_callback=_declining(asked)) as c:
            tries = [await c.call_tool("send_email", SEND) for _ in range(3)]
            search = await c.call_tool("search", {"subject": "hello"})
    codes = [structured(t)["error"]["code"] for t in tries]
    assert codes == ["confirmation_declined", "confirmation_declined", "rate_limited"]
    assert len(asked) == 2  # the third try never reached the human
    assert search.is_error is not True, structured(search)
    assert h.senders["work"].sent == []
    ends = h.audit.of_kind("call_end")
    assert [r.get("code") for r in ends[:3]] == codes
    assert [r["outcome"] for r in ends] == ["refused", "refused", "refused", "ok"]


def test_the_summary_shows_display_names_and_addresses_sanitized(tmp_path: Path) -> None:
    """Recipients given as ``Name <addr>`` (accepted since 69a40e6): the human sees each
    display name beside its address, exactly as the sent message carries them: composing
    drops bidi and zero-width characters from names and writes a look-alike domain in its
    ASCII (IDNA) form, and the summary, read back from the composed bytes, shows just that."""
    import email.parser
    import email.policy

    h = _harness(tmp_path)
    seen: list[ConfirmationSummary] = []
    args = {
        "to": [
            "Bob Example <bob@example.org>",
            "\u202eevil\u202c Mallory\u200d <m@p\u0430ypal.example>",
            "B\u043eb \u2066x\u2069 <b@example.org>",
            "Jos\u00e9 \u0418\u0432\u0430\u043d <ivan@example.org>",
        ],
        "cc": ['"Smith, Ann" <ann@example.org>'],
        "bcc": ["Hidden Person <h@example.org>"],
        "subject": "hi",
        "body": "b",
    }
    with h.open() as app:
        app.confirmer = lambda s: seen.append(s) is None
        app.call("send_email", args)
    [summary] = seen
    lines = {line.split(": ", 1)[0]: line for line in summary.text.split("\n") if ": " in line}
    assert lines["To"] == (
        'To: "Bob Example" <bob@example.org>, "evil Mallory" <m@xn--pypal-4ve.example>, '
        '"B\\u{043E}b x" <b@example.org>, "Jos\u00e9 \u0418\u0432\u0430\u043d" <ivan@example.org>'
    )
    assert lines["Cc"] == 'Cc: "Smith, Ann" <ann@example.org>'
    assert lines["Bcc"] == "Bcc: <h@example.org>"  # the envelope carries no name for Bcc
    # bidi and zero-width characters are gone; a name mixing scripts within a word is
    # escaped like an address, names whose words keep to one script are shown as they are
    assert not any(c in summary.text for c in "\u202e\u202c\u200d\u2066\u2069")
    assert "B\u043eb" not in summary.text and "p\u0430ypal" not in summary.text
    [message] = h.senders["work"].sent
    parsed = email.parser.BytesParser(policy=email.policy.default).parsebytes(message.data)
    for header in ("To", "Cc"):
        shown = [
            f'"{display_name(a.display_name)}" <{a.addr_spec}>' for a in parsed[header].addresses
        ]
        assert lines[header] == f"{header}: " + ", ".join(shown)
    assert sorted(message.recipients) == sorted(
        ["bob@example.org", "m@xn--pypal-4ve.example", "b@example.org", "ivan@example.org",
         "ann@example.org", "h@example.org"]
    )  # fmt: skip


def test_open_mailbox_takes_a_confirmer(tmp_path: Path) -> None:
    """The public face: ``open_mailbox(confirmer=...)`` and ``Mailbox.confirmer``
    (docs/library.md, "Asking a human first")."""
    from mailguard_core import InMemoryAuditSink, open_mailbox

    h = _harness(tmp_path)
    seen: list[str] = []
    answers = [False, True]

    def confirmer(summary: ConfirmationSummary) -> bool:
        seen.append(summary.text)
        return answers.pop(0)

    with open_mailbox(
        h.config, stores=h.stores, senders=h.senders, audit=InMemoryAuditSink(),
        confirmer=confirmer,
    ) as mailbox:  # fmt: skip
        assert mailbox.confirmer is confirmer
        with pytest.raises(ConfirmationDeclined):
            mailbox.send_email(to=["Bob <bob@example.org>"], subject="hi", body="b")
        sent = mailbox.send_email(to=["Bob <bob@example.org>"], subject="hi", body="b")
        mailbox.confirmer = None
        drafted = mailbox.send_email(to=["bob@example.org"], subject="hi", body="b")
    assert sent["meta"]["accepted"] == ["bob@example.org"]
    assert len(h.senders["work"].sent) == 1
    assert len(seen) == 2 and seen[0] == seen[1] and 'To: "Bob" <bob@example.org>' in seen[0]
    assert "not_sent" in drafted["meta"]
