"""The circuit breaker cannot be tripped by a caller or by an email (issue 12, items 1 and 2).

Every value the finding named (UID 4294967296, year-1 dates, ``UID 0``, folder names ``~x``,
``Sent.``, ``Trash/``, a message whose BODYSTRUCTURE line is over imaplib's 1 MB limit) is
sent over MCP stdio to ``mailguard-mcp serve`` against the real Dovecot, with the breaker's
threshold at 1 (a single counted error would open it), each value several times; the account
must still answer afterwards. The oversized response drops the connection (never read out of
step) without counting.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from imapclient import IMAPClient  # type: ignore[import-untyped]

from mailguard_core.adapters.imap import ImapMailStore
from mailguard_core.model.errors import UnreadableResponse
from mailguard_core.model.values import MessageRef, SearchCriteria
from mailguard_core.ports.secrets import Secret
from mcp import Client, StdioServerParameters
from tests.hostile.messages import many_attachments
from tests.hostile.wire_support import environment, write_config
from tests.mcp.harness import plain_message, structured
from tests.support.dovecot import DovecotServer
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.dovecot

PASSWORD = "breaker-pass-1"
#: what a hostile value may get back: every one an answer to the call, none counted
NON_COUNTING = {
    "invalid_input",
    "invalid_search",
    "invalid_folder_name",
    "refused_by_server",
    "folder_not_found",
    "message_not_found",
    "attachment_not_found",
    "unreadable_response",
    "folder_protected",
}


@pytest.fixture
def mailbox(dovecot: DovecotServer) -> str:
    user, _ = dovecot.add_user(password=PASSWORD)
    dovecot.deliver(user, "INBOX", plain_message("Lunch", "Noodles at 12?"))
    dovecot.deliver(user, "INBOX", many_attachments())
    return user


async def _ref(client: Client, subject: str, account: str) -> str:
    page = structured(await client.call_tool("search", {"subject": subject, "account": account}))
    [item] = page["items"]
    ref: str = item["meta"]["message_ref"]
    return ref


def _hostile_calls(account: str, uidvalidity: int, big: str, small: str) -> list[dict[str, Any]]:
    a = {"account": account}
    return [
        {"tool": "fetch_message", "message_ref": f"{account}:INBOX:{uidvalidity}:4294967296"},
        {"tool": "fetch_message", "message_ref": f"{account}:INBOX:{uidvalidity}:0"},
        {"tool": "fetch_message", "message_ref": f"{account}:INBOX:4294967296:1"},
        {"tool": "search", "since": "0001-01-01", **a},
        {"tool": "search", "before": "0999-12-31", **a},
        {"tool": "search_advanced", "query": "UID 0", **a},
        {"tool": "search_advanced", "query": "UID 0:5", **a},
        {"tool": "search_advanced", "query": "UID 4294967296", **a},
        {"tool": "search_advanced", "query": "SINCE 1-Jan-0001", **a},
        {"tool": "search_advanced", "query": "SENTBEFORE 0001-01-01", **a},
        {"tool": "search_advanced", "query": "LARGER 99999999999", **a},
        {"tool": "search", "folder": "~x", **a},
        {"tool": "search", "folder": "Sent.", **a},
        {"tool": "search", "folder": "Trash/", **a},
        {"tool": "search", "folder": "a&b", **a},
        {"tool": "list_attachments", "message_ref": big},
        {"tool": "download_attachment", "message_ref": big, "part_id": "1"},
        {"tool": "download_attachment", "message_ref": small, "part_id": "4294967296"},
    ]


@pytest.mark.anyio
async def test_no_hostile_value_or_email_opens_the_breaker_over_stdio(
    tmp_path: Path, dovecot: DovecotServer, mailbox: str
) -> None:
    accounts = [("ro", "readonly"), ("wire", "destructive")]
    config = write_config(tmp_path, dovecot, mailbox, accounts, breaker={"failure_threshold": 1})
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mailguard_mcp", "serve", "--config", str(config)],
        env=environment(tmp_path, {"ro": PASSWORD, "wire": PASSWORD}),
    )
    codes: dict[str, set[str]] = {}
    after: dict[str, Any] = {}
    bigs: dict[str, str] = {}
    with anyio.fail_after(120):
        async with Client(params, mode="legacy") as client:
            for account in ("ro", "wire"):
                small = await _ref(client, "Lunch", account)
                big = bigs[account] = await _ref(client, "attachments", account)
                uidvalidity = MessageRef.parse(small).uidvalidity
                for call in _hostile_calls(account, uidvalidity, big, small):
                    tool = call.pop("tool")
                    for _ in range(3):
                        result = await client.call_tool(tool, call)
                        content = structured(result)
                        key = f"{account} {tool} {json.dumps(call)[:80]}"
                        code = content["error"]["code"] if result.is_error else "ok"
                        codes.setdefault(key, set()).add(code)
                for name in ("~x", "Sent.", "a&b"):  # created by a destructive account
                    for _ in range(3):
                        result = await client.call_tool(
                            "create_folder", {"name": name, "account": account}
                        )
                        content = structured(result)
                        code = content["error"]["code"] if result.is_error else "ok"
                        codes.setdefault(f"{account} create_folder {name}", set()).add(code)
                # still answering, and in step: the small message is itself
                fetched = structured(
                    await client.call_tool("fetch_message", {"message_ref": small})
                )
                after[account] = fetched
    every = set().union(*codes.values())
    assert "circuit_open" not in every, codes
    assert every <= NON_COUNTING | {"ok", "tool_denied"}, codes
    expected = {  # (account, tool, a piece of the arguments) -> the one code every try got
        ("wire", "fetch_message", "4294967296"): "invalid_input",
        ("wire", "search", "0001-01-01"): "invalid_input",
        ("wire", "search_advanced", "UID 0"): "invalid_search",
        ("wire", "search_advanced", "1-Jan-0001"): "invalid_search",
        ("wire", "search_advanced", "LARGER"): "invalid_search",
        ("wire", "search", "~x"): "refused_by_server",
        ("wire", "search", "Sent."): "refused_by_server",
        ("wire", "search", "Trash/"): "refused_by_server",
        ("wire", "create_folder", "~x"): "refused_by_server",
        ("wire", "create_folder", "Sent."): "refused_by_server",
        ("ro", "search", "~x"): "refused_by_server",
    }
    for (account, tool, piece), code in expected.items():
        found = [v for k, v in codes.items() if k.startswith(f"{account} {tool} ") and piece in k]
        assert found and all(v == {code} for v in found), (account, tool, piece, found)
    for account in ("ro", "wire"):
        key = f"{account} list_attachments {json.dumps({'message_ref': bigs[account]})[:80]}"
        assert codes[key] == {"unreadable_response"}
        assert "error" not in after[account]
        assert "Noodles" in json.dumps(after[account]["untrusted"])
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert not [r for r in audit if r.get("code") in ("circuit_open", "protocol_error")]


def test_an_oversized_response_drops_the_connection_and_the_next_answer_is_in_step(
    dovecot: DovecotServer, mailbox: str
) -> None:
    """Item 2: the BODYSTRUCTURE line over imaplib's limit is an UnreadableResponse that does
    not count; the connection is replaced (a new TCP connection), and every later answer is
    the right one (never the rest of the oversized response)."""
    with TcpProxy(dovecot.host, dovecot.imap_port) as proxy:
        store = ImapMailStore(
            "acct",
            dovecot.imap_settings(mailbox, tls="starttls"),
            lambda: Secret(PASSWORD),
            client_factory=lambda: IMAPClient(dovecot.host, port=proxy.port, ssl=False, timeout=10),
        )
        try:
            page = store.search("INBOX", SearchCriteria(), limit=10)
            small, big = sorted(page.refs, key=lambda r: r.uid)
            assert proxy.accepted == 1
            for attempt in range(1, 4):
                with pytest.raises(UnreadableResponse) as caught:
                    store.attachments(big)
                assert caught.value.breaker is None
                assert proxy.accepted == attempt  # dropped: the next call opens a new one
                assert store.fetch(small).data.startswith(b"From: Ann")
                assert store.get_flags(small) == frozenset()
                assert proxy.accepted == attempt + 1
            # the full message itself is readable (its bytes come as a literal)
            raw = store.fetch(big)
            assert raw.data.count(b"Content-Disposition: attachment") == 9000
        finally:
            store.close()
