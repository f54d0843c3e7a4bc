"""Property, against the real servers: what the human approves is what aiosmtpd receives.

The same generators as ``test_confirm_property.py`` (look-alike letters, bidi controls,
zero-width characters, display names, values far over the display bounds), but the account
is a real Dovecot (IMAP over TLS: the Sent copy is appended there) and a real aiosmtpd (SMTP,
STARTTLS + AUTH), through the real ``mcp`` client (in process) with an elicitation callback.
The summary the callback saw is compared with the message aiosmtpd actually received: its
envelope recipients, each To/Cc mailbox with display name, the subject and the body lines.
Declined: aiosmtpd received nothing. Bounded: 25 examples, one server pair per module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from mcp.client.context import ClientRequestContext

from mailguard_core.adapters.memory_audit import InMemoryAuditSink
from mailguard_core.adapters.memory_secrets import InMemorySecretStore
from mailguard_core.app.bootstrap import open_app
from mailguard_core.config import AccountConfig, Config, ConfirmSettings, SendSettings
from mailguard_core.model.tools import Posture
from mailguard_mcp.server import build_server
from mcp import Client
from tests.mcp.harness import limits
from tests.mcp.test_confirm_property import body_text, check_shown_is_sent, long_text, recipient
from tests.support.dovecot import DovecotServer, dovecot  # noqa: F401  (fixture)
from tests.support.smtpd import SmtpTestServer, smtpd_certificate, start_smtpd  # noqa: F401

pytestmark = pytest.mark.dovecot

PASSWORD = "wire-property-7"


class Wire:
    def __init__(self, config: Config, smtp: SmtpTestServer) -> None:
        self.config = config
        self.smtp = smtp
        self.secrets = InMemorySecretStore({"wire": PASSWORD})


@pytest.fixture(scope="module")
def wire(
    dovecot: DovecotServer,  # noqa: F811
    smtpd_certificate: tuple[Path, Path],  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Wire]:
    user, _ = dovecot.add_user(password=PASSWORD)
    smtp = start_smtpd(
        tmp_path_factory.mktemp("smtp"), users={user: PASSWORD}, certificate=smtpd_certificate
    )
    account = AccountConfig(
        name="wire",
        address=f"{user}@wire.example",
        display_name="Me \u202eEvil",
        posture=Posture.FULL,
        imap=dovecot.imap_settings(user),
        smtp=smtp.smtp_settings(user),
        confirm=ConfirmSettings(tools=("send_email",), timeout_seconds=10),
        limits=limits(1000.0, 1000, send_email="1000/s"),
        send=SendSettings(max_recipients=50),
    )
    try:
        yield Wire(Config(accounts=(account,)), smtp)
    finally:
        smtp.stop()


async def _send(w: Wire, args: dict[str, Any], accept: bool) -> tuple[list[str], Any]:
    shown: list[str] = []

    async def human(
        context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        shown.append(params.message)
        if accept:
            return types.ElicitResult(action="accept", content={"approve": True})
        return types.ElicitResult(action="decline")

    server = build_server(lambda: open_app(w.config, secrets=w.secrets, audit=InMemoryAuditSink()))
    with anyio.fail_after(60):
        async with Client(server, mode="legacy", elicitation_callback=human) as client:
            result = await client.call_tool("send_email", args)
    return shown, result


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    to=st.lists(recipient, min_size=1, max_size=3),
    cc=st.lists(recipient, max_size=2),
    bcc=st.lists(recipient, max_size=1),
    subject=long_text,
    body=st.one_of(body_text, st.lists(long_text, max_size=12).map("\n".join)),
    accept=st.sampled_from((True, True, False)),  # mostly accepted: most examples send
)
def test_what_aiosmtpd_receives_is_what_the_human_approved(
    wire: Wire,
    to: list[str],
    cc: list[str],
    bcc: list[str],
    subject: str,
    body: str,
    accept: bool,
) -> None:
    args = {"to": to, "cc": cc, "bcc": bcc, "subject": subject, "body": body}
    before = len(wire.smtp.messages)
    shown, result = anyio.run(_send, wire, args, accept)
    received = wire.smtp.messages[before:]
    event("sent" if received else "asked, declined" if shown else "refused before asking")
    if not accept or result.is_error:
        assert received == []
        if shown:
            assert not accept
            assert result.structured_content["error"]["code"] == "confirmation_declined"
        return
    [summary] = shown
    [message] = received
    check_shown_is_sent(summary, message.rcpt_tos, message.data)
    assert result.structured_content["meta"]["sent_copy_stored"] is True  # APPENDed to Dovecot
