"""``serve --http`` over real HTTP with the SDK's streamable HTTP client: bearer tokens checked
as an OAuth resource server, principals confined to their accounts, audit records the principal."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp.client.streamable_http import streamable_http_client

from mailguard_mcp.demo import DEMO_ADDRESS, DEMO_AUTHSERV_ID, materialize
from mcp import Client
from tests.support.http_server import ISSUER, Issuer, free_port, http_server

pytestmark = pytest.mark.anyio

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def write_config(root: Path, port: int, *, auth: bool = True) -> Path:
    accounts = []
    for name in ("alice", "bob"):
        materialize(root / name / "Maildir")
        accounts.append(
            f"""
[[accounts]]
name = "{name}"
address = "{DEMO_ADDRESS}"
posture = "draft-safe"
maildir = "{root / name / "Maildir"}"
trusted_authserv_id = "{DEMO_AUTHSERV_ID}"
download_dir = "{root / name / "downloads"}"
[accounts.limits]
calls_per_second = 50.0
burst = 200
"""
        )
    server = f"""
[server]
transport = "http"
port = {port}
"""
    if auth:
        server += f"""
[server.auth]
issuer = "{ISSUER}"
audience = "http://127.0.0.1:{port}/mcp"
jwks_file = "{root / "jwks.json"}"

[[server.principals]]
name = "alice"
subject = "alice"
accounts = ["alice"]

[[server.principals]]
name = "bob"
subject = "bob"
accounts = ["bob"]

[[server.principals]]
name = "auditors"
claim = "groups"
value = "auditors"
accounts = ["alice", "bob"]
posture = "readonly"
"""
    path = root / "config.toml"
    path.write_text(f'[audit]\npath = "{root / "audit.jsonl"}"\n' + "".join(accounts) + server)
    return path


class Deployment:
    def __init__(self, root: Path, port: int, issuer: Issuer) -> None:
        self.root, self.port, self.issuer = root, port, issuer
        self.url = f"http://127.0.0.1:{port}/mcp"

    def token(self, sub: str, **kw: Any) -> str:
        return self.issuer.token(sub, self.url, **kw)

    @asynccontextmanager
    async def client(self, token: str) -> AsyncIterator[Client]:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            Client(streamable_http_client(self.url, http_client=http)) as client,
        ):
            yield client

    def audit(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in (self.root / "audit.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("http")
    issuer = Issuer()
    issuer.write_jwks(root / "jwks.json")
    port = free_port()
    config = write_config(root, port)
    with http_server(config, port, stderr=root / "stderr.log"):
        yield Deployment(root, port, issuer)
    # after a graceful stop the audit chain is whole and closed
    verify = subprocess.run(
        [sys.executable, "-m", "mailguard_mcp", "audit", "verify", str(root / "audit.jsonl")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def _text(result: Any) -> str:
    return str(result.content[0].text)


async def test_valid_token_serves_the_tools_through_the_gate(deployment: Deployment) -> None:
    async with deployment.client(deployment.token("alice")) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        found = await client.call_tool("search", {"subject": "Quarterly"})
        accounts = await client.call_tool("list_accounts", {})
    assert {"search", "fetch_message", "create_draft"} <= tools
    assert found.is_error is not True, _text(found)
    assert found.structured_content is not None
    assert found.structured_content["items"], "the demo mailbox has a Quarterly message"
    assert accounts.structured_content is not None
    names = [a["name"] for a in accounts.structured_content["meta"]["accounts"]]
    assert names == ["alice"]
    starts = [r for r in deployment.audit() if r.get("kind") == "call_start"]
    assert any(r["tool"] == "search" and r["principal"] == "alice:alice" for r in starts)


@pytest.mark.parametrize("case", ["none", "expired", "audience", "signature", "issuer", "garbage"])
async def test_bad_tokens_get_401_pointing_at_the_metadata(
    deployment: Deployment, case: str
) -> None:
    d = deployment
    token = {
        "none": None,
        "expired": d.token("alice", ttl=-120),
        "audience": d.issuer.token("alice", "http://127.0.0.1:1/other"),
        "signature": d.token("alice", forged=True),
        "issuer": d.token("alice", issuer="http://127.0.0.1:9/evil"),
        "garbage": "not.a.jwt",
    }[case]
    headers = dict(HEADERS)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with httpx2.AsyncClient(timeout=10) as http:
        response = await http.post(d.url, json=INIT, headers=headers)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="invalid_token"' in challenge
    assert f'resource_metadata="http://127.0.0.1:{d.port}/.well-known/oauth-protected-resource' in (
        challenge
    )


async def test_unmapped_subject_is_refused(deployment: Deployment) -> None:
    async with httpx2.AsyncClient(timeout=10) as http:
        response = await http.post(
            deployment.url,
            json=INIT,
            headers={**HEADERS, "Authorization": f"Bearer {deployment.token('mallory')}"},
        )
    assert response.status_code == 401


async def test_protected_resource_metadata_is_served(deployment: Deployment) -> None:
    base = f"http://127.0.0.1:{deployment.port}/.well-known/oauth-protected-resource"
    async with httpx2.AsyncClient(timeout=10) as http:
        for url in (base, base + "/mcp"):
            response = await http.get(url)
            assert response.status_code == 200, url
            document = response.json()
            assert document["resource"].rstrip("/") == deployment.url
            assert [s.rstrip("/") for s in document["authorization_servers"]] == [ISSUER]


async def test_foreign_origin_is_refused(deployment: Deployment) -> None:
    token = deployment.token("alice")
    async with httpx2.AsyncClient(timeout=10) as http:
        evil = await http.post(
            deployment.url,
            json=INIT,
            headers={
                **HEADERS,
                "Authorization": f"Bearer {token}",
                "Origin": "http://evil.example",
            },
        )
        local = await http.post(
            deployment.url,
            json=INIT,
            headers={
                **HEADERS,
                "Authorization": f"Bearer {token}",
                "Origin": f"http://127.0.0.1:{deployment.port}",
            },
        )
    assert evil.status_code == 403
    assert local.status_code == 200


#: every way a tool names an account: explicit, in refs, in a list of refs, in in_reply_to
FOREIGN_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("use_account", {"account": "{x}"}),
    ("search", {"account": "{x}", "subject": "Quarterly"}),
    ("list_folders", {"account": "{x}"}),
    ("fetch_message", {"message_ref": "{x}:INBOX:1:1"}),
    ("list_attachments", {"message_ref": "{x}:INBOX:1:1"}),
    ("mark_read", {"message_refs": ["{x}:INBOX:1:1"]}),
    (
        "create_draft",
        {"to": ["a@b.example"], "subject": "s", "body": "b", "in_reply_to": "{x}:INBOX:1:1"},
    ),
    ("create_draft", {"account": "{x}", "to": ["a@b.example"], "subject": "s", "body": "b"}),
]


def _fill(value: Any, name: str) -> Any:
    if isinstance(value, str):
        return value.replace("{x}", name)
    if isinstance(value, list):
        return [_fill(v, name) for v in value]
    return {k: _fill(v, name) for k, v in value.items()}


async def test_a_principal_cannot_reach_another_principals_account(
    deployment: Deployment,
) -> None:
    """bob's account is refused to alice exactly as a name that does not exist."""
    async with deployment.client(deployment.token("alice")) as client:
        for tool, arguments in FOREIGN_CALLS:
            foreign = await client.call_tool(tool, _fill(arguments, "bob"))
            unknown = await client.call_tool(tool, _fill(arguments, "nosuch"))
            assert foreign.is_error is True, (tool, _text(foreign))
            assert _text(foreign) == _text(unknown), tool
            assert foreign.structured_content == unknown.structured_content, tool
        accounts = await client.call_tool("list_accounts", {})
        still = await client.call_tool("search", {"subject": "Quarterly"})
    assert accounts.structured_content is not None
    assert accounts.structured_content["meta"]["active"] == "alice"
    assert [a["name"] for a in accounts.structured_content["meta"]["accounts"]] == ["alice"]
    assert still.is_error is not True
    assert "bob" not in json.dumps(accounts.structured_content)
    bob_calls = [
        r for r in deployment.audit() if r.get("kind") == "call_start" and r.get("account") == "bob"
    ]
    assert bob_calls and all(r["principal"] == "alice:alice" for r in bob_calls)


async def test_posture_ceiling_of_a_principal(deployment: Deployment) -> None:
    token = deployment.token("carol", groups=["staff", "auditors"])
    async with deployment.client(token) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        read = await client.call_tool("search", {"account": "bob", "subject": "Quarterly"})
        draft = await client.call_tool(
            "create_draft", {"account": "bob", "to": ["a@b.example"], "subject": "s", "body": "b"}
        )
        switched = await client.call_tool("use_account", {"account": "bob"})
        # the session remembers its active account between requests
        active = await client.call_tool("list_accounts", {})
    assert "search" in tools and "create_draft" not in tools and "mark_read" not in tools
    assert read.is_error is not True, _text(read)
    assert draft.is_error is True
    assert _text(draft) == "error tool_denied: this tool is not available"
    assert switched.is_error is not True
    assert switched.structured_content is not None
    assert "create_draft" not in switched.structured_content["meta"]["tools"]
    assert active.structured_content is not None
    assert active.structured_content["meta"]["active"] == "bob"


def test_non_loopback_bind_without_auth_is_refused(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, port, auth=False)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mailguard_mcp",
            "serve",
            "--config",
            str(config),
            "--http",
            f"0.0.0.0:{port}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1
    assert "without [server.auth]" in done.stderr


async def test_sigterm_lets_an_in_flight_call_finish_and_closes_the_audit(tmp_path: Path) -> None:
    """A call in flight when SIGTERM arrives gets its answer; the audit log ends closed."""
    import signal
    import socket
    import time

    import anyio

    silent = socket.socket()  # accepts, never greets: the IMAP login waits for its timeout
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    port = free_port()
    config = write_config(tmp_path, port, auth=False)
    config.write_text(
        config.read_text()
        + f"""
[[accounts]]
name = "slow"
address = "s@slow.example"
posture = "readonly"
[accounts.imap]
host = "127.0.0.1"
port = {silent.getsockname()[1]}
tls = "implicit"
username = "s"
connect_timeout = 3.0
""".replace("[server]", "")
    )
    text = config.read_text()
    # the [[accounts]] appended after [server] would nest under it: move [server] last
    head, _, server = text.partition("\n[server]\n")
    server_lines, _, rest = server.partition("\n[[accounts]]")
    config.write_text(head + "\n[[accounts]]" + rest + "\n[server]\n" + server_lines + "\n")
    env = {
        "MAILGUARD_SLOW_PASSWORD": "x",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    try:
        with http_server(config, port, env=env, stderr=tmp_path / "stderr.log") as process:
            url = f"http://127.0.0.1:{port}/mcp"
            async with (
                httpx2.AsyncClient(timeout=30) as http,
                Client(streamable_http_client(url, http_client=http)) as client,
            ):
                result: list[Any] = []

                async def call() -> None:
                    result.append(await client.call_tool("list_folders", {"account": "slow"}))

                async with anyio.create_task_group() as tg:
                    tg.start_soon(call)
                    await anyio.sleep(1.0)
                    started = time.monotonic()
                    process.send_signal(signal.SIGTERM)
            assert result and result[0].is_error is True
            assert "error" in (result[0].structured_content or {})
            assert time.monotonic() - started < 10
            process.wait(20)
    finally:
        silent.close()
    records = [json.loads(x) for x in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert records[-1]["kind"] == "log_close"
    ends = [r for r in records if r.get("kind") == "call_end"]
    # the call ran its whole timeout (3 s) though SIGTERM came 1 s in
    assert ends and (ends[-1]["outcome"], ends[-1]["code"]) == ("error", "timeout"), ends
    assert ends[-1]["ms"] >= 2500
