"""Two ``serve --http`` replicas sharing one real redis-server: one rate limit across both, one
circuit breaker across both (failures through each add up, and it refuses on both), and Redis
going away fails closed with every call still in each replica's own audit log."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp.client.streamable_http import streamable_http_client

from mailguard_mcp.demo import DEMO_ADDRESS, DEMO_AUTHSERV_ID, materialize
from mcp import Client
from tests.support.http_server import free_port, http_server
from tests.support.redis_server import RedisServer, redis_server

pytestmark = pytest.mark.anyio

LIMIT = 5


def write_config(root: Path, redis_url: str) -> Path:
    materialize(root / "Maildir")
    dead = free_port()  # nothing listens here: every IMAP call fails as a transient error
    path = root / "config.toml"
    path.write_text(
        f"""
[audit]
path = "{root / "audit.jsonl"}"

[[accounts]]
name = "shared"
address = "{DEMO_ADDRESS}"
posture = "readonly"
maildir = "{root / "Maildir"}"
trusted_authserv_id = "{DEMO_AUTHSERV_ID}"
[accounts.limits]
calls_per_second = 0.001
burst = {LIMIT}

[[accounts]]
name = "broken"
address = "b@broken.example"
posture = "readonly"
[accounts.imap]
host = "127.0.0.1"
port = {dead}
tls = "implicit"
username = "b@broken.example"
connect_timeout = 2.0
[accounts.breaker]
failure_threshold = 2
cooldown_seconds = 120.0

[server.state]
redis_url = "{redis_url}"
"""
    )
    return path


class Replicas:
    def __init__(self, root: Path, ports: list[int], redis: RedisServer) -> None:
        self.root, self.ports, self.redis = root, ports, redis

    @asynccontextmanager
    async def client(self, replica: int) -> AsyncIterator[Client]:
        url = f"http://127.0.0.1:{self.ports[replica]}/mcp"
        async with (
            httpx2.AsyncClient(timeout=30) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            yield client

    def audit(self, replica: int) -> list[dict[str, Any]]:
        text = (self.root / f"audit-r{replica}.jsonl").read_text()
        return [json.loads(line) for line in text.splitlines()]


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[Replicas]:
    with redis_server() as redis, ExitStack() as stack:
        config = write_config(tmp_path, redis.url)
        env = {
            "MAILGUARD_BROKEN_PASSWORD": "x",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }
        ports = [free_port(), free_port()]
        for i, port in enumerate(ports):
            stack.enter_context(
                http_server(
                    config,
                    port,
                    env={**env, "MAILGUARD_REPLICA": f"r{i}"},
                    stderr=tmp_path / f"stderr-r{i}.log",
                )
            )
        yield Replicas(tmp_path, ports, redis)
    # both replicas stopped: each log is whole, every call has its end record; one
    # `audit verify` checks the set
    done = subprocess.run(
        [sys.executable, "-m", "mailguard_mcp", "audit", "verify"]
        + [str(tmp_path / f"audit-r{i}.jsonl") for i in range(2)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("chain intact") == 2


def _code(result: Any) -> str | None:
    content = result.structured_content or {}
    error = content.get("error")
    return None if error is None else str(error["code"])


async def test_one_limit_across_two_replicas(replicas: Replicas) -> None:
    codes = []
    async with replicas.client(0) as first, replicas.client(1) as second:
        for i in range(2 * LIMIT):
            client = first if i % 2 == 0 else second
            codes.append(_code(await client.call_tool("list_folders", {"account": "shared"})))
    assert codes.count(None) == LIMIT, codes
    assert codes[LIMIT:] == ["rate_limited"] * LIMIT


async def test_failures_through_both_replicas_open_one_breaker_for_both(
    replicas: Replicas,
) -> None:
    """The threshold is 2: one failure through each replica opens the shared breaker (neither
    saw 2 itself), and both then refuse without touching the server."""
    async with replicas.client(0) as first, replicas.client(1) as second:
        failures = [
            _code(await client.call_tool("list_folders", {"account": "broken"}))
            for client in (first, second)
        ]
        after = [
            _code(await client.call_tool("list_folders", {"account": "broken"}))
            for client in (first, second)
        ]
    assert None not in failures and "circuit_open" not in failures, failures
    assert after == ["circuit_open", "circuit_open"]
    for i in (0, 1):  # each replica: one call that reached the server, one refused
        ends = [r for r in replicas.audit(i) if r.get("kind") == "call_end"]
        assert [r.get("code") for r in ends] == [failures[i], "circuit_open"]


async def test_redis_going_away_fails_closed_and_the_audit_keeps_every_call(
    replicas: Replicas,
) -> None:
    async with replicas.client(0) as first, replicas.client(1) as second:
        before = _code(await first.call_tool("list_folders", {"account": "shared"}))
        replicas.redis.stop()
        during = [
            _code(await c.call_tool("list_folders", {"account": "shared"})) for c in (first, second)
        ]
        accounts = await second.call_tool("list_accounts", {})  # needs no shared state
    assert before is None
    assert during == ["state_unavailable", "state_unavailable"]
    assert accounts.is_error is not True
    for i, expected in ((0, [None, "state_unavailable"]), (1, ["state_unavailable", None])):
        records = replicas.audit(i)
        starts = [r for r in records if r.get("kind") == "call_start"]
        ends = [r for r in records if r.get("kind") == "call_end"]
        assert len(starts) == len(ends) == 2
        assert [r.get("code") for r in ends] == expected
